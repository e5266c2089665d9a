// Types of scripts/system-deps.mjs for the unit test that imports it.
export interface SystemState {
  missing: string[];
  isRoot: boolean;
  hasAptGet: boolean;
}
export type SystemPlan =
  | { action: 'none' }
  | { action: 'install'; packages: string[]; message: string }
  | { action: 'error'; message: string };
export const SYSTEM_PACKAGES: { name: string; file: string }[];
export function planSystemDeps(state: SystemState): SystemPlan;
export function probeSystem(): SystemState;
export function ensureSystemDeps(state?: SystemState): void;
