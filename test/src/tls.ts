import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerUnavailableError } from './errors.js';
import { which } from './which.js';

export interface TestCertificate {
  /** PEM files, for code that takes paths (a CA file). */
  keyFile: string;
  certFile: string;
  key: Buffer;
  cert: Buffer;
}

/** A self-signed certificate for 127.0.0.1 (EC P-256, one day), made with openssl. */
export function selfSignedCertificate(): TestCertificate {
  if (!which('openssl'))
    throw new ServerUnavailableError('needs openssl: apt-get install -y openssl');
  const dir = mkdtempSync(join(tmpdir(), 'sluice-tls-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { keyFile, certFile, key: readFileSync(keyFile), cert: readFileSync(certFile) };
}
