//! The path by signatures alone, dates aside: used only when webpki finds no moment at which
//! every certificate of the chain is valid (an expired leaf whose intermediate was re-issued
//! after it expired), to tell "good but for the clock" from "no path at all".
//!
//! Each link is checked as webpki checks it: the issuer's subject equals the child's issuer
//! (byte for byte), and the child's signature verifies with the issuer's key under one of the
//! provider's algorithms, matched on the algorithm identifiers. Nothing here can make a chain
//! pass: a path found this way is reported as out of date, never as verified.

use std::collections::HashSet;

use rustls::pki_types::{CertificateDer, SignatureVerificationAlgorithm};

use super::anchors::AnchorSet;

/// One DER element: its tag, its whole encoding and its contents.
struct Tlv<'a> {
    tag: u8,
    whole: &'a [u8],
    contents: &'a [u8],
}

/// The first DER element of `input` and what follows it, or None when it does not parse.
fn tlv(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let tag = *input.first()?;
    let first = *input.get(1)?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let bytes = input.get(2..2 + n)?;
        let len = bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    let whole = input.get(..end)?;
    Some((
        Tlv {
            tag,
            whole,
            contents: &whole[header..],
        },
        &input[end..],
    ))
}

/// What a link needs of a certificate.
struct Parts<'a> {
    /// the signed part, whole
    tbs: &'a [u8],
    /// the contents of the signature algorithm identifier
    signature_alg: &'a [u8],
    /// the signature
    signature: &'a [u8],
    /// the issuer and subject names, contents
    issuer: &'a [u8],
    subject: &'a [u8],
    /// the whole SubjectPublicKeyInfo; the contents of its algorithm identifier, and the key
    spki: &'a [u8],
    key_alg: &'a [u8],
    key: &'a [u8],
}

fn parts(der: &[u8]) -> Option<Parts<'_>> {
    let (cert, _) = tlv(der)?;
    let (tbs, rest) = tlv(cert.contents)?;
    let (signature_alg, rest) = tlv(rest)?;
    let (signature, _) = tlv(rest)?;
    let signature = bit_string(signature.contents)?;
    let mut fields = tbs.contents;
    let (first, rest) = tlv(fields)?;
    if first.tag == 0xa0 {
        // the version, explicit; the serial number follows
        fields = rest;
    }
    let (_serial, rest) = tlv(fields)?;
    let (_inner_alg, rest) = tlv(rest)?;
    let (issuer, rest) = tlv(rest)?;
    let (_validity, rest) = tlv(rest)?;
    let (subject, rest) = tlv(rest)?;
    let (spki, _) = tlv(rest)?;
    let (key_alg, key) = spki_parts(spki.contents)?;
    Some(Parts {
        tbs: tbs.whole,
        signature_alg: signature_alg.contents,
        signature,
        issuer: issuer.contents,
        subject: subject.contents,
        spki: spki.whole,
        key_alg,
        key,
    })
}

/// The whole SubjectPublicKeyInfo of a certificate, or None when it does not parse.
pub fn leaf_spki(der: &[u8]) -> Option<&[u8]> {
    parts(der).map(|p| p.spki)
}

/// The algorithm identifier's contents and the key of a SubjectPublicKeyInfo's contents.
fn spki_parts(spki: &[u8]) -> Option<(&[u8], &[u8])> {
    let (alg, rest) = tlv(spki)?;
    let (key, _) = tlv(rest)?;
    Some((alg.contents, bit_string(key.contents)?))
}

/// The bits of a BIT STRING with no unused bits.
fn bit_string(contents: &[u8]) -> Option<&[u8]> {
    match contents.split_first() {
        Some((0, bits)) => Some(bits),
        _ => None,
    }
}

/// True when `child`'s signature verifies with the key `key` of algorithm `key_alg`.
fn signed_by(
    child: &Parts<'_>,
    key_alg: &[u8],
    key: &[u8],
    algs: &[&dyn SignatureVerificationAlgorithm],
) -> bool {
    algs.iter().any(|alg| {
        alg.signature_alg_id().as_ref() == child.signature_alg
            && alg.public_key_alg_id().as_ref() == key_alg
            && alg
                .verify_signature(key, child.tbs, child.signature)
                .is_ok()
    })
}

/// The path from the leaf to an anchor of `set` by names and signatures alone: the index of
/// the anchor and the positions of the presented certificates on the path, leaf first.
pub(super) fn signed_path(
    set: &AnchorSet,
    chain: &[CertificateDer<'_>],
    algs: &[&dyn SignatureVerificationAlgorithm],
) -> Option<(usize, Vec<usize>)> {
    // a copy of a certificate already seen is never a candidate: it adds no path, and a chain
    // repeating a self-signed certificate would otherwise be walked copy by copy
    let mut seen = HashSet::with_capacity(chain.len());
    let certs: Vec<Option<Parts<'_>>> = chain
        .iter()
        .map(|c| seen.insert(c.as_ref()).then(|| parts(c.as_ref())).flatten())
        .collect();
    let mut current = certs.first()?.as_ref()?;
    let mut on_path = vec![false; chain.len()];
    on_path[0] = true;
    let mut positions = vec![0];
    // each step adds a certificate not yet on the path, so the walk ends
    for _ in 0..chain.len() {
        for (i, anchor) in set.anchors.iter().enumerate() {
            if anchor.subject.as_ref() != current.issuer {
                continue;
            }
            if let Some((key_alg, key)) = spki_parts(anchor.subject_public_key_info.as_ref()) {
                if signed_by(current, key_alg, key, algs) {
                    return Some((i, positions));
                }
            }
        }
        let next = certs.iter().enumerate().find(|(i, parent)| {
            !on_path[*i]
                && parent.as_ref().is_some_and(|p| {
                    p.subject == current.issuer && signed_by(current, p.key_alg, p.key, algs)
                })
        });
        let (i, parent) = next?;
        on_path[i] = true;
        positions.push(i);
        current = parent.as_ref()?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{Ca, KeyKind};

    #[test]
    fn certificates_are_taken_apart_and_garbage_is_none() {
        let root = Ca::root("Root", "Lab", KeyKind::EcdsaP256).unwrap();
        let inter = root
            .intermediate("Inter", "Lab", KeyKind::EcdsaP256)
            .unwrap();
        let (r, i) = (
            parts(root.der().as_ref()).unwrap(),
            parts(inter.der().as_ref()).unwrap(),
        );
        assert_eq!(i.issuer, r.subject);
        let algs = webpki::ALL_VERIFICATION_ALGS;
        assert!(signed_by(&i, r.key_alg, r.key, algs));
        assert!(!signed_by(&r, i.key_alg, i.key, algs));

        let der = inter.der().as_ref();
        for cut in [0, 1, 2, 10, der.len() / 2, der.len() - 1] {
            assert!(parts(&der[..cut]).is_none(), "cut at {cut}");
        }
        for garbage in [
            &b"\x30\x84\xff\xff\xff\xff"[..],
            b"\x30\x85\x01\x01\x01\x01\x01",
            b"\x30",
        ] {
            assert!(parts(garbage).is_none());
        }
    }
}
