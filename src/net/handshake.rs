//! The TLS client: a rustls configuration whose verifier records the presented chain and accepts
//! it, while the handshake signature is still checked with the leaf's key.
//!
//! Accepting every chain is what lets pinprobe see an interceptor's chain at all; the judgement
//! is made afterwards, by `chain::trust` and the pins. Each probe gets its own verifier (cheap:
//! the configuration is cloned), so a chain is kept even when the handshake fails after the
//! certificate message. Resumption is disabled so that every probe sees a full chain.

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::Resumption;
use rustls::crypto::{
    verify_tls12_signature, verify_tls13_signature, verify_tls13_signature_with_raw_key,
    CryptoProvider,
};
use rustls::pki_types::{CertificateDer, ServerName, SubjectPublicKeyInfoDer, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

/// What the verifier saw during one handshake.
#[derive(Debug, Default, Clone)]
pub struct Recorded {
    /// the chain as presented, leaf first
    pub chain: Vec<CertificateDer<'static>>,
    /// set when the server's handshake signature did not verify with the leaf's key
    pub signature_error: Option<String>,
}

/// A verifier that records the chain and accepts it, checking only the handshake signature.
#[derive(Debug)]
pub struct RecordingVerifier {
    provider: Arc<CryptoProvider>,
    recorded: Arc<Mutex<Recorded>>,
}

impl RecordingVerifier {
    /// A verifier for one handshake; read what it saw through the returned handle.
    pub fn new(provider: Arc<CryptoProvider>) -> (Arc<RecordingVerifier>, Arc<Mutex<Recorded>>) {
        let recorded = Arc::new(Mutex::new(Recorded::default()));
        let verifier = Arc::new(RecordingVerifier {
            provider,
            recorded: Arc::clone(&recorded),
        });
        (verifier, recorded)
    }

    fn note_signature(
        &self,
        result: Result<HandshakeSignatureValid, rustls::Error>,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        if let Err(e) = &result {
            if let Ok(mut recorded) = self.recorded.lock() {
                recorded.signature_error = Some(e.to_string());
            }
        }
        result
    }
}

/// When rustls could not check the handshake signature because webpki will not take the leaf
/// as a certificate (an unknown critical extension, dates it cannot read), checks it with the
/// leaf's key alone: the server still proves it holds that key, and what is wrong with the
/// certificate is for the paths to say. Any other error stands.
fn with_leaf_key(
    error: rustls::Error,
    cert: &CertificateDer<'_>,
    check: impl FnOnce(&SubjectPublicKeyInfoDer<'_>) -> Result<HandshakeSignatureValid, rustls::Error>,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    if !matches!(error, rustls::Error::InvalidCertificate(_)) {
        return Err(error);
    }
    match crate::chain::trust::leaf_spki(cert.as_ref()) {
        // when the key does not check it either, rustls's own error says best what failed
        Some(spki) => check(&SubjectPublicKeyInfoDer::from(spki)).or(Err(error)),
        None => Err(error),
    }
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut recorded) = self.recorded.lock() {
            recorded.chain = std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| c.clone().into_owned())
                .collect();
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.provider.signature_verification_algorithms;
        self.note_signature(
            verify_tls12_signature(message, cert, dss, algs).or_else(|e| {
                with_leaf_key(e, cert, |spki| {
                    let key = webpki::RawPublicKeyEntity::try_from(spki)
                        .map_err(|e| rustls::Error::General(format!("{e:?}")))?;
                    let schemes = algs.mapping.iter().find(|(s, _)| *s == dss.scheme);
                    let verified = schemes.is_some_and(|(_, candidates)| {
                        candidates
                            .iter()
                            .any(|alg| key.verify_signature(*alg, message, dss.signature()).is_ok())
                    });
                    if verified {
                        Ok(HandshakeSignatureValid::assertion())
                    } else {
                        Err(rustls::Error::General(
                            "the signature does not verify with the leaf's key".into(),
                        ))
                    }
                })
            }),
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.provider.signature_verification_algorithms;
        self.note_signature(
            verify_tls13_signature(message, cert, dss, algs).or_else(|e| {
                with_leaf_key(e, cert, |spki| {
                    verify_tls13_signature_with_raw_key(message, spki, dss, algs)
                })
            }),
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The configuration shared by a run: TLS 1.3 and 1.2, no resumption, ALPN http/1.1. The
/// verifier is a placeholder; `for_probe` gives each probe its own recording one.
pub fn base_config(provider: Arc<CryptoProvider>) -> Result<ClientConfig, rustls::Error> {
    let (verifier, _) = RecordingVerifier::new(Arc::clone(&provider));
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.resumption = Resumption::disabled();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// A copy of `base` with a fresh recording verifier for one probe.
pub fn for_probe(
    base: &ClientConfig,
    provider: Arc<CryptoProvider>,
) -> (Arc<ClientConfig>, Arc<Mutex<Recorded>>) {
    let (verifier, recorded) = RecordingVerifier::new(provider);
    let mut config = base.clone();
    config.dangerous().set_certificate_verifier(verifier);
    (Arc::new(config), recorded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{Behaviour, Ca, KeyKind, LeafSpec, Server};

    #[tokio::test]
    async fn records_an_untrusted_chain_and_completes_the_handshake() {
        let root = Ca::root("Nobody Trusts Me", "Lab", KeyKind::Rsa2048).unwrap();
        let inter = root
            .intermediate("Issuing", "Lab", KeyKind::EcdsaP256)
            .unwrap();
        let leaf = inter.leaf(&LeafSpec::new(["lab.test"])).unwrap();
        let server = Server::start(
            leaf.chain(),
            leaf.key.clone_key(),
            Behaviour::Http {
                status: 200,
                body: "OK".into(),
            },
        )
        .await
        .unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let base = base_config(Arc::clone(&provider)).unwrap();
        let (config, recorded) = for_probe(&base, provider);
        let tcp = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
        let name = ServerName::try_from("lab.test").unwrap();
        let tls = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await;
        assert!(tls.is_ok(), "{:?}", tls.err());
        let recorded = recorded.lock().unwrap().clone();
        assert_eq!(recorded.chain, leaf.chain());
        assert!(recorded.signature_error.is_none());
    }
}
