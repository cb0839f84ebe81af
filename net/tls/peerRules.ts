// The checks etcd makes on a verified client (or peer) certificate after the handshake:
// --client-cert-allowed-hostname / --peer-cert-allowed-cn / --peer-cert-allowed-hostname
// (pkg/transport baseConfig's VerifyPeerCertificate) and the CRL (listener_tls.go's
// checkCRL: any certificate of the presented chain whose serial is revoked).

import { checkServerIdentity, type DetailedPeerCertificate, type PeerCertificate } from 'node:tls';
import { normalizeSerial } from './serials.js';

export interface CertificateRules {
  /** '' = any. Exact match on the subject's common name. */
  readonly allowedCn: string;
  /** '' = any. The certificate must be valid for this host name or IP (its SANs). */
  readonly allowedHostname: string;
}

export const NO_RULES: CertificateRules = { allowedCn: '', allowedHostname: '' };

/** etcd's refusal texts. */
export const CERT_AUTH_FAILED = 'client certificate authentication failed';

/** The presented chain, leaf first, without repeating the self-signed root. */
function chainOf(leaf: DetailedPeerCertificate): PeerCertificate[] {
  const chain: PeerCertificate[] = [leaf];
  const seen = new Set<string>([leaf.fingerprint256]);
  // node:tls types issuerCertificate as always present; at the end of a chain it is absent.
  for (let cert = leaf.issuerCertificate as DetailedPeerCertificate | undefined; cert !== undefined && !seen.has(cert.fingerprint256); cert = cert.issuerCertificate as DetailedPeerCertificate | undefined) {
    seen.add(cert.fingerprint256);
    chain.push(cert);
  }
  return chain;
}

/** null if the certificate passes, else the reason (etcd's text). */
export function refusalOf(leaf: DetailedPeerCertificate, rules: CertificateRules, revoked: ReadonlySet<string>): string | null {
  if (revoked.size > 0) {
    for (const cert of chainOf(leaf)) {
      const serial = normalizeSerial(cert.serialNumber);
      if (revoked.has(serial)) return `transport: certificate serial ${serial} revoked`;
    }
  }
  if (rules.allowedCn !== '' && leaf.subject.CN !== rules.allowedCn) return CERT_AUTH_FAILED;
  if (rules.allowedHostname !== '' && checkServerIdentity(rules.allowedHostname, leaf) !== undefined) return CERT_AUTH_FAILED;
  return null;
}
