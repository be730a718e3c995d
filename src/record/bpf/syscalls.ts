/**
 * The number of a syscall of ftrace's `syscalls:sys_enter_<name>` (the bpf backend attaches to
 * raw_syscalls and tells syscalls apart by number). ftrace names a few by their kernel
 * definition rather than their ABI name.
 */
import { X86_64_SYSCALL_NUMBERS } from './syscall-numbers.js';

/** ftrace's name → the ABI name (the kernel's SYSCALL_DEFINE names of x86-64's table entries). */
const FTRACE_ALIASES: Readonly<Record<string, string>> = {
  newstat: 'stat',
  newfstat: 'fstat',
  newlstat: 'lstat',
  newuname: 'uname',
  sendfile64: 'sendfile',
  umount: 'umount2',
};

export function syscallNumber(ftraceName: string): number | undefined {
  return X86_64_SYSCALL_NUMBERS[FTRACE_ALIASES[ftraceName] ?? ftraceName];
}
