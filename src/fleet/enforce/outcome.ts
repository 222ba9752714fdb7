// fleet/enforce/: pure: what one instance's run of the on-host command said: enforced, refused (and by which processes), or failed.

export type HostOutcome = 'enforced' | 'refused' | 'failed' | 'rolled-back';

export interface HostResult {
  instanceId: string;
  outcome: HostOutcome;
  /** Processes the on-host gate named (IMDSv1 callers it saw). */
  processes: string[];
  detail: string;
}

interface EnforceJson {
  result?: unknown;
  gate?: { offenders?: unknown; reasons?: unknown };
  error?: unknown;
  /** An error line (`{"event":"error",…}`): a run that ended before its report. */
  event?: unknown;
  message?: unknown;
}

/** The last JSON object on stdout that `pick` accepts: the report (`result`) or the error line. */
function lastJson(stdout: string, pick: (json: EnforceJson) => boolean): EnforceJson | null {
  const lines = stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('{'));
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const parsed = JSON.parse(lines[i] ?? '') as unknown;
      if (parsed !== null && typeof parsed === 'object' && pick(parsed as EnforceJson)) return parsed as EnforceJson;
    } catch {
      // not this line
    }
  }
  return null;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/**
 * One instance's outcome from the SSM invocation: its status, exit code and
 * the on-host command's JSON. `verified`, `applied` and `already_enforced` are
 * enforced (rolled back, for a rollback); `refused` names the processes the
 * gate saw; anything else failed.
 */
export function hostOutcome(action: 'enforce' | 'rollback', instanceId: string, status: string, responseCode: number | null, stdout: string, stderr: string): HostResult {
  const json = lastJson(stdout, (j) => typeof j.result === 'string');
  const errorLine = lastJson(stdout, (j) => j.event === 'error');
  const result = typeof json?.result === 'string' ? json.result : null;
  // SSM's plugin output is stdout, then stderr after a marker line: the first line of stderr, else of the output, says why.
  const [out = '', err = stderr] = stdout.split('----------ERROR-------');
  const firstError = [err, out].flatMap((t) => t.split('\n')).map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('{')) ?? '';
  if (result === 'verified' || result === 'applied' || result === 'already_enforced' || result === 'already_restored') {
    return { instanceId, outcome: action === 'enforce' ? 'enforced' : 'rolled-back', processes: [], detail: result };
  }
  if (result === 'refused' || responseCode === 6) {
    const processes = strings(json?.gate?.offenders);
    const reasons = strings(json?.gate?.reasons);
    return { instanceId, outcome: 'refused', processes, detail: processes.length > 0 ? `IMDSv1 callers: ${processes.join(', ')}` : reasons[0] ?? (firstError || 'refused by the gate') };
  }
  const why = typeof json?.error === 'string' ? json.error : typeof errorLine?.message === 'string' ? errorLine.message : firstError || `SSM status ${status}${responseCode === null ? '' : `, exit ${responseCode}`}`;
  return { instanceId, outcome: 'failed', processes: [], detail: why.slice(0, 300) };
}
