import type { Env } from './configuration';

/** Reads an integer variable of `env`: its default when unset, else plain decimal digits within [min, max], or a problem named. */
export type IntegerSetting = (name: string, def: number, min: number, max: number) => number;

export function integerSetting(env: Env, problems: string[]): IntegerSetting {
  return (name, def, min, max) => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return def;
    // Plain decimal digits only: Number() would also take "0x1F90", "1e3" or " 12 ".
    const n = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return def;
    }
    return n;
  };
}
