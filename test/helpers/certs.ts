// Test certificates, made with the system's openssl.
import { runCommand } from './proc';

/** A new P-256 key at `keyPath` and an X.509 certificate for it at `certPath`, valid 2 days (`extra`: subject, issuer, extensions). */
export async function newP256Certificate(keyPath: string, certPath: string, extra: readonly string[]): Promise<void> {
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath];
  await runCommand('openssl', ['req', '-x509', ...key, '-out', certPath, '-days', '2', ...extra]);
}
