// Free TCP ports on loopback for servers that need their port in a config file
// before they start (docker-registry, sshd).
import * as net from 'node:net';

// There is a window between closing our probe socket and the real server
// binding the port. Never handing the same port out twice in one test process
// keeps two helpers of the same run from racing each other for it.
const handedOut = new Set<number>();

export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await probe(host);
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`freePort: no unused port found on ${host}`);
}

function probe(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
