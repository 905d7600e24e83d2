/** errno numbers and names (asm-generic/errno*.h) for the errors rtnetlink returns. */
const NAMES: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 4: 'EINTR', 5: 'EIO', 6: 'ENXIO', 9: 'EBADF', 11: 'EAGAIN', 12: 'ENOMEM',
  13: 'EACCES', 16: 'EBUSY', 17: 'EEXIST', 19: 'ENODEV', 22: 'EINVAL', 28: 'ENOSPC', 34: 'ERANGE', 90: 'EMSGSIZE',
  93: 'EPROTONOSUPPORT', 95: 'EOPNOTSUPP', 97: 'EAFNOSUPPORT', 98: 'EADDRINUSE', 99: 'EADDRNOTAVAIL',
  100: 'ENETDOWN', 101: 'ENETUNREACH', 105: 'ENOBUFS', 113: 'EHOSTUNREACH',
};
export const errnoName = (n: number): string => NAMES[n] ?? `errno ${n}`;
export const ENOENT = 2;
export const ESRCH = 3;
export const EINTR = 4;
export const EAGAIN = 11;
export const EEXIST = 17;
export const ENODEV = 19;
export const EOPNOTSUPP = 95;
export const ENOBUFS = 105;

/** syscall-napi reports only strerror text; map the texts the transport must tell apart. */
const BY_TEXT: Record<string, number> = {
  'Resource temporarily unavailable': EAGAIN,
  'Interrupted system call': EINTR,
  'No buffer space available': ENOBUFS,
};
export const errnoFromSyscallError = (err: unknown): number | undefined =>
  err instanceof Error ? BY_TEXT[err.message] : undefined;

/** A request the kernel refused: errno, its name, the kernel's message and what was asked. */
export class NetlinkError extends Error {
  readonly code: string;
  constructor(readonly errno: number, readonly what: string, readonly kernelMessage?: string) {
    super(`${what}: ${errnoName(errno)}${kernelMessage ? ` (${kernelMessage})` : ''}`);
    this.name = 'NetlinkError';
    this.code = errnoName(errno);
  }
}
