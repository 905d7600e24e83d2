// Types for the untyped `syscall-napi` package (brought in by node-netlink).
declare module 'syscall-napi' {
  type Arg = bigint | Buffer;
  interface Syscall {
    (...args: Arg[]): Promise<bigint>;
    sync(...args: Arg[]): bigint;
  }
  const sys: { syscall: Syscall } & Record<string, bigint>;
  export default sys;
}
