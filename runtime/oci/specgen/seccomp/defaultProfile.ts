/**
 * Gantry's default seccomp profile: an allowlist with the effect of Docker's
 * default (moby profiles/seccomp/default.json, ≥ v25), kept as our own table
 * grouped by what the calls do. Only x86_64 (with its x86 and x32
 * sub-architectures) and aarch64 (with arm) are covered: the hosts Gantry
 * runs on.
 *
 * Left out of every group, so they fail with EPERM unless a capability
 * rule below opens them:
 * - keyctl, add_key, request_key: the kernel keyring is not namespaced;
 * - bpf, perf_event_open, lookup_dcookie: kernel tracing and programs
 *   (CAP_SYS_ADMIN, CAP_BPF, CAP_PERFMON open them);
 * - userfaultfd: a classic tool for winning kernel races;
 * - io_uring_setup/enter/register: a large kernel surface with a history of
 *   escapes, which Docker also blocks since v25;
 * - kexec_load, kexec_file_load, reboot, init_module …: the host's kernel;
 * - open_by_handle_at (CAP_DAC_READ_SEARCH): the 2014 "shocker" escape;
 * - mount, umount2, unshare, setns, clone/clone3 with namespace flags,
 *   the new mount API (fsopen …): namespaces and mounts (CAP_SYS_ADMIN);
 * - ptrace and process_vm_* on kernels before 4.8, whose seccomp could be
 *   bypassed by a tracer (CAP_SYS_PTRACE opens them anywhere);
 * - settimeofday and clock_settime (CAP_SYS_TIME), acct, quotactl,
 *   sethostname and setdomainname (CAP_SYS_ADMIN, as Docker), swapon,
 *   vhangup, iopl/ioperm, mbind/set_mempolicy, syslog, and personality
 *   values other than the harmless ones.
 * Docker has no rule for CAP_SYS_RESOURCE (setrlimit/prlimit64 are always
 * allowed and the kernel checks the capability), so neither do we.
 */
import type { Profile, Rule } from './seccomp';

// The syscall lists stay packed, several names to a line, so each has prettier-ignore.
// prettier-ignore
const FILES = [
  'access', 'chdir', 'chmod', 'chown', 'chown32', 'close', 'close_range', 'copy_file_range', 'creat', 'dup', 'dup2', 'dup3',
  'faccessat', 'faccessat2', 'fadvise64', 'fadvise64_64', 'fallocate', 'fchdir', 'fchmod', 'fchmodat', 'fchmodat2', 'fchown',
  'fchown32', 'fchownat', 'fcntl', 'fcntl64', 'fdatasync', 'flock', 'fstat', 'fstat64', 'fstatat64', 'fstatfs', 'fstatfs64',
  'fsync', 'ftruncate', 'ftruncate64', 'futimesat', 'getcwd', 'getdents', 'getdents64', 'link', 'linkat', '_llseek', 'lseek',
  'lstat', 'lstat64', 'mkdir', 'mkdirat', 'mknod', 'mknodat', 'name_to_handle_at', 'newfstatat', 'open', 'openat', 'openat2',
  'pread64', 'preadv', 'preadv2', 'pwrite64', 'pwritev', 'pwritev2', 'read', 'readahead', 'readlink', 'readlinkat', 'readv',
  'rename', 'renameat', 'renameat2', 'rmdir', 'sendfile', 'sendfile64', 'splice', 'stat', 'stat64', 'statfs', 'statfs64',
  'statx', 'symlink', 'symlinkat', 'sync', 'sync_file_range', 'syncfs', 'tee', 'truncate', 'truncate64', 'umask', 'unlink',
  'unlinkat', 'utime', 'utimensat', 'utimensat_time64', 'utimes', 'vmsplice', 'write', 'writev', 'cachestat',
];

// prettier-ignore
const XATTRS = [
  'fgetxattr', 'flistxattr', 'fremovexattr', 'fsetxattr', 'getxattr', 'lgetxattr', 'listxattr', 'llistxattr', 'lremovexattr',
  'lsetxattr', 'removexattr', 'setxattr',
];

/** Waiting on many fds, and the fd-shaped event sources. */
// prettier-ignore
const EVENTS = [
  'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_pwait', 'epoll_pwait2', 'epoll_wait', 'epoll_wait_old',
  'eventfd', 'eventfd2', 'fanotify_mark', 'inotify_add_watch', 'inotify_init', 'inotify_init1', 'inotify_rm_watch', 'poll',
  'ppoll', 'ppoll_time64', 'pselect6', 'pselect6_time64', 'select', '_newselect', 'signalfd', 'signalfd4', 'timerfd_create',
  'timerfd_gettime', 'timerfd_gettime64', 'timerfd_settime', 'timerfd_settime64', 'ioctl', 'pipe', 'pipe2',
];

/** Legacy AIO (io_uring is deliberately not here). */
const AIO = ['io_cancel', 'io_destroy', 'io_getevents', 'io_pgetevents', 'io_pgetevents_time64', 'io_setup', 'io_submit'];

// prettier-ignore
const PROCESSES = [
  'execve', 'execveat', 'exit', 'exit_group', 'fork', 'vfork', 'wait4', 'waitid', 'waitpid', 'kill', 'tgkill', 'tkill',
  'pidfd_open', 'pidfd_send_signal', 'getpid', 'getppid', 'gettid', 'getpgid', 'getpgrp', 'setpgid', 'getsid', 'setsid',
  'prctl', 'capget', 'capset', 'seccomp', 'set_tid_address', 'get_robust_list', 'set_robust_list', 'rseq', 'restart_syscall',
  'get_thread_area', 'set_thread_area', 'getrlimit', 'setrlimit', 'ugetrlimit', 'prlimit64', 'getrusage', 'times', 'uname',
  'sysinfo', 'getcpu', 'getrandom', 'membarrier', 'landlock_add_rule', 'landlock_create_ruleset', 'landlock_restrict_self',
  'process_mrelease',
];

// prettier-ignore
const IDENTITY = [
  'getegid', 'getegid32', 'geteuid', 'geteuid32', 'getgid', 'getgid32', 'getgroups', 'getgroups32', 'getresgid',
  'getresgid32', 'getresuid', 'getresuid32', 'getuid', 'getuid32', 'setfsgid', 'setfsgid32', 'setfsuid', 'setfsuid32',
  'setgid', 'setgid32', 'setgroups', 'setgroups32', 'setregid', 'setregid32', 'setresgid', 'setresgid32', 'setresuid',
  'setresuid32', 'setreuid', 'setreuid32', 'setuid', 'setuid32',
];

// prettier-ignore
const SIGNALS = [
  'pause', 'rt_sigaction', 'rt_sigpending', 'rt_sigprocmask', 'rt_sigqueueinfo', 'rt_sigreturn', 'rt_sigsuspend',
  'rt_sigtimedwait', 'rt_sigtimedwait_time64', 'rt_tgsigqueueinfo', 'sigaltstack', 'sigprocmask', 'sigreturn',
];

// prettier-ignore
const MEMORY = [
  'brk', 'madvise', 'memfd_create', 'memfd_secret', 'mincore', 'mlock', 'mlock2', 'mlockall', 'mmap', 'mmap2', 'mprotect',
  'mremap', 'msync', 'munlock', 'munlockall', 'munmap', 'pkey_alloc', 'pkey_free', 'pkey_mprotect', 'remap_file_pages',
  'map_shadow_stack',
];

/** Reading clocks, sleeping, timers; setting the clock needs CAP_SYS_TIME. adjtimex only sets with it (the kernel checks). */
// prettier-ignore
const TIME = [
  'adjtimex', 'alarm', 'clock_adjtime', 'clock_adjtime64', 'clock_getres', 'clock_getres_time64', 'clock_gettime',
  'clock_gettime64', 'clock_nanosleep', 'clock_nanosleep_time64', 'getitimer', 'gettimeofday', 'nanosleep', 'setitimer',
  'time', 'timer_create', 'timer_delete', 'timer_getoverrun', 'timer_gettime', 'timer_gettime64', 'timer_settime',
  'timer_settime64',
];

// prettier-ignore
const SCHEDULING = [
  'getpriority', 'setpriority', 'ioprio_get', 'ioprio_set', 'sched_getaffinity', 'sched_getattr', 'sched_getparam',
  'sched_get_priority_max', 'sched_get_priority_min', 'sched_getscheduler', 'sched_rr_get_interval',
  'sched_rr_get_interval_time64', 'sched_setaffinity', 'sched_setattr', 'sched_setparam', 'sched_setscheduler',
  'sched_yield', 'futex', 'futex_time64', 'futex_waitv', 'futex_wait', 'futex_wake', 'futex_requeue',
];

/** socket itself is a rule of its own below (no AF_VSOCK). */
// prettier-ignore
const NETWORK = [
  'accept', 'accept4', 'bind', 'connect', 'getpeername', 'getsockname', 'getsockopt', 'listen', 'recv', 'recvfrom',
  'recvmmsg', 'recvmmsg_time64', 'recvmsg', 'send', 'sendmmsg', 'sendmsg', 'sendto', 'setsockopt', 'shutdown',
  'socketcall', 'socketpair',
];

/** System V and POSIX IPC: namespaced by the container's IPC namespace. */
// prettier-ignore
const IPC = [
  'ipc', 'mq_getsetattr', 'mq_notify', 'mq_open', 'mq_timedreceive', 'mq_timedreceive_time64', 'mq_timedsend',
  'mq_timedsend_time64', 'mq_unlink', 'msgctl', 'msgget', 'msgrcv', 'msgsnd', 'semctl', 'semget', 'semop', 'semtimedop',
  'semtimedop_time64', 'shmat', 'shmctl', 'shmdt', 'shmget',
];

/** The namespace flags of clone(2): CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET. */
export const CLONE_NAMESPACE_FLAGS = 0x7e020000;

const AF_VSOCK = 40;
const ENOSYS = 38;

const allow = (names: readonly string[], more: Omit<Rule, 'names' | 'action'> = {}): Rule => ({ names, action: 'SCMP_ACT_ALLOW', ...more });
const withCap = (cap: string, names: readonly string[]): Rule => allow(names, { includes: { caps: [cap] } });

/** personality(2) values that change nothing dangerous: PER_LINUX, PER_LINUX32, UNAME26 (± LINUX32), and the query. */
const PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

const RULES: readonly Rule[] = [
  allow(
    [...FILES, ...XATTRS, ...EVENTS, ...AIO, ...PROCESSES, ...IDENTITY, ...SIGNALS, ...MEMORY, ...TIME, ...SCHEDULING, ...NETWORK, ...IPC],
    {
      comment: 'everyday calls, allowed for everyone',
    },
  ),
  allow(['ptrace', 'process_vm_readv', 'process_vm_writev'], {
    includes: { minKernel: '4.8' },
    comment: 'before 4.8 a ptracer could change a syscall after seccomp checked it',
  }),
  allow(['socket'], {
    args: [{ index: 0, value: AF_VSOCK, op: 'SCMP_CMP_NE' }],
    comment: 'vsock reaches the hypervisor, not the container network',
  }),
  ...PERSONALITIES.map((p) => allow(['personality'], { args: [{ index: 0, value: p, op: 'SCMP_CMP_EQ' }] })),
  allow(['arch_prctl'], { includes: { arches: ['amd64', 'x32'] } }),
  allow(['modify_ldt'], { includes: { arches: ['amd64', 'x32', 'x86'] } }),
  allow(['arm_fadvise64_64', 'arm_sync_file_range', 'sync_file_range2', 'breakpoint', 'cacheflush', 'set_tls'], {
    includes: { arches: ['arm', 'arm64'] },
  }),
  withCap('CAP_DAC_READ_SEARCH', ['open_by_handle_at']),
  withCap('CAP_SYS_ADMIN', [
    'bpf',
    'clone',
    'clone3',
    'fanotify_init',
    'fsconfig',
    'fsmount',
    'fsopen',
    'fspick',
    'lookup_dcookie',
    'mount',
    'mount_setattr',
    'move_mount',
    'open_tree',
    'perf_event_open',
    'quotactl',
    'quotactl_fd',
    'setdomainname',
    'sethostname',
    'setns',
    'syslog',
    'umount',
    'umount2',
    'unshare',
  ]),
  allow(['clone'], {
    // On x86_64 and aarch64 the flags are the first argument (s390 swaps the first two; not covered).
    args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
    excludes: { caps: ['CAP_SYS_ADMIN'] },
    comment: 'threads and processes, but no new namespaces',
  }),
  {
    names: ['clone3'],
    action: 'SCMP_ACT_ERRNO',
    errnoRet: ENOSYS,
    excludes: { caps: ['CAP_SYS_ADMIN'] },
    comment: "clone3's flags are in memory seccomp cannot read: ENOSYS makes libc fall back to clone",
  },
  withCap('CAP_SYS_BOOT', ['reboot']),
  withCap('CAP_SYS_CHROOT', ['chroot']),
  withCap('CAP_SYS_MODULE', ['delete_module', 'init_module', 'finit_module']),
  withCap('CAP_SYS_PACCT', ['acct']),
  withCap('CAP_SYS_PTRACE', ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace']),
  withCap('CAP_SYS_RAWIO', ['iopl', 'ioperm']),
  withCap('CAP_SYS_TIME', ['settimeofday', 'stime', 'clock_settime', 'clock_settime64']),
  withCap('CAP_SYS_TTY_CONFIG', ['vhangup']),
  withCap('CAP_SYS_NICE', ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node']),
  withCap('CAP_SYSLOG', ['syslog']),
  withCap('CAP_BPF', ['bpf']),
  withCap('CAP_PERFMON', ['perf_event_open']),
];

export const DEFAULT_PROFILE: Profile = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: 1, // EPERM
  archMap: [
    { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
    { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
  ],
  syscalls: RULES,
};
