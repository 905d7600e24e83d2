// Types for the parts of syscall-napi (the native layer under node-netlink and
// po6-socket) that the netlink transport uses.
declare module 'syscall-napi' {
  type Arg = bigint | Buffer;
  interface Syscall {
    (nr: bigint, ...args: Arg[]): Promise<bigint>;
    sync(nr: bigint, ...args: Arg[]): bigint;
  }
  const sys: { syscall: Syscall } & Record<`__NR_${string}`, bigint>;
  export default sys;
}
