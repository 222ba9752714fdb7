import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { assembleScope } from '../../../src/fleet/inventory/assemble.js';
import type { Inventory } from '../../../src/fleet/model.js';
import { buildReport } from '../../../src/fleet/report/build.js';
import { csv, csvCell } from '../../../src/fleet/render/csv.js';
import { reportHtml } from '../../../src/fleet/render/html.js';
import { inventoryCsv, inventoryText } from '../../../src/fleet/render/inventory.js';
import { reportCsv, reportText } from '../../../src/fleet/render/report.js';
import { NOW, SCOPE, daily, metrics, scopeAnswers } from './fixtures.js';

function hostileInventory(): Inventory {
  const answers = scopeAnswers();
  // Tag values are anyone's with ec2:CreateTags: a terminal escape, a spreadsheet formula, HTML.
  answers.instances[2]?.Tags?.push({ Key: 'Name', Value: '=HYPERLINK("http://x","\u001b[31mclick")<script>alert(1)</script>' });
  const items = assembleScope(answers);
  return {
    collectedAt: new Date(NOW).toISOString(), scopes: [SCOPE], instances: items.instances, launchTemplateVersions: items.launchTemplateVersions,
    launchConfigurations: items.launchConfigurations, autoScalingGroups: items.autoScalingGroups, accountDefaults: [], errors: [], calls: {},
  };
}

describe('CSV', () => {
  it('quotes what needs it and defuses formulas', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"\n')).toBe('"say ""hi""\n"');
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('-2')).toBe("'-2");
    expect(csvCell(-2)).toBe('-2');
    expect(csvCell(null)).toBe('');
    expect(csv(['a', 'b'], [[1, true]])).toBe('a,b\r\n1,true\r\n');
  });
  it('the inventory and report CSVs carry a hostile tag as inert text', () => {
    const inv = hostileInventory();
    const text = inventoryCsv(inv);
    expect(text.split('\r\n')[0]).toBe('kind,account,region,id,name,allows_imdsv1,source,http_tokens,hop_limit,endpoint,state,instance_type,auto_scaling_group,launch_template,image_id,imds_support,used_by');
    expect(text).toContain(`"'=HYPERLINK(""http://x""`);
    expect(reportCsv(buildReport(inv, new Map(), { windowDays: 7, nowMs: NOW }))).toContain(`"'=HYPERLINK(""http://x""`);
  });
});

describe('tables for a terminal', () => {
  it('escape control characters from tags and names', () => {
    const inv = hostileInventory();
    const text = inventoryText(inv, { allInstances: true }) + reportText(buildReport(inv, new Map(), { windowDays: 7, nowMs: NOW }), { allInstances: true });
    expect(text).not.toContain('\u001b');
    expect(inventoryText(inv)).toContain('Instances that allow IMDSv1 (2; --all for every instance)');
  });
});

describe('HTML page', () => {
  const r = buildReport(hostileInventory(), new Map([['i-0000000000000web1', metrics({ agentDays: daily(7, 1), v1ByProcess: new Map([['python3', daily(7, 2)]]) })]]), { windowDays: 7, nowMs: NOW });
  const html = reportHtml(r);
  it('escapes every value: a tag cannot open a script', () => {
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(html.match(/<script>/g)).toHaveLength(1);
  });
  it("allows only its own sorting script, by hash, and no request to anywhere", () => {
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
    const hash = createHash('sha256').update(script).digest('base64');
    expect(html).toContain(`script-src &#39;sha256-${hash}&#39;`);
    expect(html).toContain('default-src &#39;none&#39;');
    expect(html).not.toMatch(/\b(src|href)=["']?https?:/);
  });
  it('has the charts and the sortable tables', () => {
    expect(html).toContain('<svg id="chart-process"');
    expect(html).toContain('python3 <span class="n">14</span>');
    for (const id of ['waves', 'processes', 'launch-paths', 'instances']) expect(html).toContain(`<table id="${id}" class="sortable">`);
  });
});
