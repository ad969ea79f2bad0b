/**
 * Who a process is, beyond its pid: the kernel's boot (a pid on another
 * machine, or before a reboot, is another process) and the process's start
 * time (a pid reused, or seen from another pid namespace, is another
 * process). Used by local file access (docs/files.md, "Local access"): a
 * client checks that a /proc path gantryd named is gantryd's before it
 * opens anything there.
 */
import * as fs from 'node:fs';

let boot: string | undefined;

/** This kernel's boot_id (read once: it does not change while we run). */
export function bootId(): string {
  boot ??= fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  return boot;
}

/**
 * The fields of /proc/PID/stat from field 3 (the state letter) on, as
 * written there; undefined when there is no such process. The command name
 * (field 2) may hold spaces and parentheses, so fields are counted from its
 * closing parenthesis.
 */
export function procStatFields(pid: number): string[] | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** A process's start time (clock ticks after boot, field 22), as written there; undefined when there is no such process. */
export function startTimeOf(pid: number): string | undefined {
  return procStatFields(pid)?.[19];
}

let self: { pid: number; bootId: string; startTime: string } | undefined;

/** This process's identity (read once: none of it changes while we run). */
export function ownIdentity(): { pid: number; bootId: string; startTime: string } {
  self ??= { pid: process.pid, bootId: bootId(), startTime: startTimeOf(process.pid) ?? '' };
  return self;
}
