//! DNSSEC-signed test zones for the in-process DNS server ([`super::dns::TestDns`]): hickory-
//! server signs a zone with a fresh ECDSA P-256 key (NSEC denials), and the test gets the key as
//! a trust-anchor line (`<origin> 3600 IN DNSKEY 257 3 13 <base64>`) for `--trust-anchor`.
//!
//! It can also spoil a signed zone (an RRset changed after signing: its RRSIG no longer
//! verifies, so a validating resolver calls it bogus), and serve a zone unsigned while the test
//! still holds an anchor for it (what a resolver that strips DNSSEC data looks like).
//! Must not touch anything but the zone handlers it builds; it never listens itself.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use hickory_server::{
    dnssec::NxProofKind,
    proto::{
        dnssec::{Algorithm, DnssecSigner, SigningKey, crypto::EcdsaSigningKey, rdata::DNSKEY},
        rr::{LowerName, Name, RData, RecordType, RrKey},
        serialize::txt::Parser,
    },
    store::in_memory::InMemoryZoneHandler,
    zone_handler::{AxfrPolicy, ZoneType},
};

/// A zone handler ready for [`super::dns::TestDns::start_handlers`], and the trust-anchor text
/// for its key (empty for an unsigned zone).
pub struct TestZone {
    /// The zone's origin.
    pub origin: Name,
    /// The zone, signed or not.
    pub handler: InMemoryZoneHandler,
    /// `<origin> 3600 IN DNSKEY ...` for the key that signed it; empty when unsigned.
    pub anchor: String,
}

/// Parses `zone_text` (master-file text with an SOA, relative to `origin`) into a handler that
/// answers DNSSEC queries with NSEC denials.
fn handler(origin: &str, zone_text: &str) -> (Name, InMemoryZoneHandler) {
    let origin_name = Name::from_str(origin).expect("a test zone origin is a name");
    let (parsed_origin, records) = Parser::new(zone_text, None, Some(origin_name))
        .parse()
        .unwrap_or_else(|error| {
            panic!("test zone {origin:?} does not parse: {error}\n{zone_text}")
        });
    let handler = InMemoryZoneHandler::new(
        parsed_origin.clone(),
        records,
        ZoneType::Primary,
        AxfrPolicy::Deny,
        Some(NxProofKind::Nsec),
    )
    .unwrap_or_else(|error| panic!("test zone {origin:?} is not a valid zone: {error}"));
    (parsed_origin, handler)
}

/// The zone signed with a new key whose signatures are valid for `signatures_valid_for`
/// (hickory signs with inception now).
pub fn signed(origin: &str, zone_text: &str, signatures_valid_for: Duration) -> TestZone {
    let (origin, mut handler) = handler(origin, zone_text);
    let algorithm = Algorithm::ECDSAP256SHA256;
    let pkcs8 = EcdsaSigningKey::generate_pkcs8(algorithm).expect("a P-256 key");
    let key = EcdsaSigningKey::from_pkcs8(&pkcs8, algorithm).expect("the key reads back");
    let public_key = key.to_public_key().expect("its public key");
    let dnskey = DNSKEY::from_key(&public_key);
    let anchor = format!("{} 3600 IN DNSKEY {dnskey}\n", origin.to_ascii());
    let signer = DnssecSigner::new(dnskey, Box::new(key), origin.clone(), signatures_valid_for);
    handler
        .add_zone_signing_key_mut(signer)
        .expect("the key joins the zone");
    handler.secure_zone_mut().expect("the zone signs");
    TestZone {
        origin,
        handler,
        anchor,
    }
}

/// The zone without any DNSSEC records.
pub fn unsigned(origin: &str, zone_text: &str) -> TestZone {
    let (origin, handler) = handler(origin, zone_text);
    TestZone {
        origin,
        handler,
        anchor: String::new(),
    }
}

impl TestZone {
    /// Changes the `record_type` RRset at `name` (relative to the origin, `@` for the origin)
    /// to hold `rdata_text` instead, keeping the RRSIGs made for the old data: the RRset is now
    /// bogus.
    pub fn spoil(&mut self, name: &str, record_type: RecordType, rdata_text: &str) {
        let owner = if name == "@" {
            self.origin.clone()
        } else {
            Name::from_str(name)
                .expect("a name")
                .append_domain(&self.origin)
                .expect("fits")
        };
        let key = RrKey::new(LowerName::from(&owner), record_type);
        let records = self.handler.records_get_mut();
        let rrset = records
            .get_mut(&key)
            .unwrap_or_else(|| panic!("no {record_type} RRset at {owner} to spoil"));
        let rrset = Arc::make_mut(rrset);
        let rdata = RData::try_from_str(record_type, rdata_text)
            .unwrap_or_else(|error| panic!("{rdata_text:?} is no {record_type}: {error}"));
        let mut spoiled: Vec<_> = rrset.records_without_rrsigs().cloned().collect();
        for record in &mut spoiled {
            record.data = rdata.clone();
        }
        rrset.set_records(spoiled);
    }
}
