// A plain GET for tests that check what a server in a container answers.
import * as http from 'node:http';

/** The body of a GET (any status); rejects on a connection error or after 5 s. */
export function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res
        .setEncoding('utf8')
        .on('data', (s: string) => (body += s))
        .on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}
