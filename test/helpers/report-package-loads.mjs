// Test helper, for `node --import`: prints "loaded <package>" on stderr, once each, for every npm
// package the process's ES modules resolve into (a CommonJS package's own require()s are not seen).
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(
    [
      'const seen = new Set();',
      'export async function resolve(specifier, context, next) {',
      '  const r = await next(specifier, context);',
      "  const m = /\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(r.url);",
      "  if (m && !seen.has(m[1])) { seen.add(m[1]); console.error('loaded ' + m[1]); }",
      '  return r;',
      '}',
    ].join('\n'),
  )}`,
);
