// The Piscina handler of the HTTP benchmark's hand-written reference: the job server's
// sample `factorial` task, without au (n! as a decimal string).
export default function factorial({ n }: { n: number }): string {
  let result = 1n;
  for (let factor = 2n; factor <= BigInt(n); factor++) result *= factor;
  return result.toString();
}
