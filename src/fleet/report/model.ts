// fleet/report/: the report's data: per-instance metrics read from CloudWatch, and the verdicts, waves and fixes made from them.

import type { AutoScalingGroupItem, InstanceItem, LaunchConfigurationItem, LaunchTemplateVersionItem, Posture, AccountDefaultItem } from '../model.js';

/** Daily sums: day start (ms) → value. */
export type DailySeries = Map<number, number>;

/** What CloudWatch holds for one instance over the window. */
export interface InstanceMetrics {
  /** The agent's instance aggregate of IMDSv1Calls: a datapoint per day it reported (its heartbeat). */
  agentDays: DailySeries;
  /** IMDSv1 calls per Process dimension, per day. */
  v1ByProcess: Map<string, DailySeries>;
  /** AWS/EC2 MetadataNoToken (IMDSv1 calls EC2 counted), per day; read for instances without the agent. */
  metadataNoToken: DailySeries;
  /** AWS/EC2 MetadataNoTokenRejected (IMDSv1 calls refused), per day; read for enforced instances. */
  metadataNoTokenRejected: DailySeries;
}

export type Verdict = 'enforced' | 'ready' | 'blocked' | 'v1-no-agent' | 'no-data' | 'exception';

/** An exception tag `imds-sniff:exception=<reason>;until=<YYYY-MM-DD>`. */
export interface ExceptionTag {
  reason: string;
  until: string | null;
  expired: boolean;
}

export type Wave = 0 | 1 | 2;

export interface InstanceVerdict {
  instance: InstanceItem;
  verdict: Verdict;
  /** One line for people: why this verdict. */
  detail: string;
  /** The processes that called with IMDSv1 in the window, most calls first. */
  blockers: { process: string; calls: number }[];
  v1Calls: number;
  agent: boolean;
  /** Days the agent reported in the window. */
  agentDaysReported: number;
  exception: ExceptionTag | null;
  wave: Wave;
  waveReason: string;
}

/** A launch path (group, template version, configuration, account default): what new launches get, and the fix. */
export interface LaunchPathFinding {
  kind: 'auto-scaling-group' | 'launch-template-version' | 'launch-configuration' | 'account-default';
  account: string;
  region: string;
  name: string;
  posture: Posture | null;
  /** What a new launch gets, in words. */
  newLaunches: string;
  /** The exact change, as an AWS CLI command; null when nothing is needed. */
  fix: string | null;
}

/** A process that still calls IMDSv1 somewhere, with where and how to fix it. */
export interface ProcessFinding {
  process: string;
  program: string;
  instances: number;
  calls: number;
  fix: string;
}

export interface FleetReport {
  generatedAt: string;
  windowDays: number;
  instances: InstanceVerdict[];
  launchPaths: LaunchPathFinding[];
  processes: ProcessFinding[];
  /** Instances per verdict and per wave. */
  totals: { byVerdict: Record<Verdict, number>; byWave: Record<`${Wave}`, { instances: number; ready: number; blocked: number }> };
  /** IMDSv1 calls per day: per process and per wave (the page's charts). */
  daily: { days: number[]; byProcess: Record<string, number[]>; byWave: Record<`${Wave}`, number[]> };
  /** Expired exception tags, by instance id. */
  expiredExceptions: string[];
  /** What reading it cost: API calls per action, metric series read, GetMetricData calls (filled by the run). */
  collection: { calls: Record<string, number>; series: number; getMetricDataCalls: number } | null;
}

export type { AutoScalingGroupItem, LaunchConfigurationItem, LaunchTemplateVersionItem, AccountDefaultItem };
