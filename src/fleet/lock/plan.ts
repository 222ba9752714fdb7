// fleet/lock/: pure: per account and region, whether the account default can be set to IMDSv2-only now, and what it would change.

import type { AccountDefaultItem, Inventory, Scope } from '../model.js';
import { exceptionOf } from '../report/exception-tag.js';

export interface LockStep extends Scope {
  /** set: change the default; done: already as asked; refused: something in scope would break (reasons). */
  action: 'set' | 'done' | 'refused';
  reasons: string[];
  before: Pick<AccountDefaultItem, 'httpTokens' | 'httpTokensEnforced'> | null;
  after: { httpTokens: 'required'; httpTokensEnforced: boolean };
}

const LISTED = 5;

function some(ids: string[]): string {
  return `${ids.slice(0, LISTED).join(', ')}${ids.length > LISTED ? ` and ${ids.length - LISTED} more` : ''}`;
}

/**
 * The lock of each scope. It is refused while an instance there still allows
 * IMDSv1 without a valid exception, when the defaults could not be read or are
 * set by an Organizations policy, and, when enforcement is asked for, while an
 * Auto Scaling group would launch with IMDSv1 (those launches would fail) or an
 * excepted instance exists (its replacement could not launch).
 */
export function lockPlan(inventory: Inventory, options: { enforce: boolean; nowMs: number }): LockStep[] {
  return inventory.scopes.map((scope) => {
    const here = <T extends Scope>(items: T[]): T[] => items.filter((i) => i.account === scope.account && i.region === scope.region);
    const current = here(inventory.accountDefaults)[0] ?? null;
    const after = { httpTokens: 'required' as const, httpTokensEnforced: options.enforce };
    const before = current === null ? null : { httpTokens: current.httpTokens, httpTokensEnforced: current.httpTokensEnforced };
    const reasons: string[] = [];
    const unread = inventory.errors.filter((e) => e.account === scope.account && e.region === scope.region);
    if (unread.length > 0) reasons.push(`not everything could be read: ${unread.map((e) => `${e.what} (${e.code})`).join(', ')}`);
    if (current?.managedBy === 'declarative-policy') reasons.push('the defaults are set by an AWS Organizations declarative policy: change the policy instead');
    const open = here(inventory.instances).filter((i) => i.posture.allowsV1);
    const excepted = open.filter((i) => {
      const e = exceptionOf(i.tags, options.nowMs);
      return e !== null && !e.expired;
    });
    const blocking = open.filter((i) => !excepted.includes(i)).map((i) => i.id).sort();
    if (blocking.length > 0) reasons.push(`${blocking.length} instances still allow IMDSv1: ${some(blocking)} (imds-sniff fleet enforce, or an exception tag)`);
    if (options.enforce) {
      const groups = here(inventory.autoScalingGroups).filter((g) => g.posture?.source === 'explicit' && g.posture.allowsV1).map((g) => g.name).sort();
      if (groups.length > 0) reasons.push(`with enforcement, launches of ${some(groups)} would fail: their launch templates or configurations set HttpTokens=optional`);
      if (excepted.length > 0) reasons.push(`with enforcement, the excepted instances ${some(excepted.map((i) => i.id).sort())} could not be launched again as they are`);
    }
    const done = before !== null && before.httpTokens === 'required' && (before.httpTokensEnforced || !options.enforce);
    const action = reasons.length > 0 ? 'refused' : done ? 'done' : 'set';
    return { ...scope, action, reasons, before, after };
  });
}
