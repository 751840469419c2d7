//! A small GeoIP2-Country database in MaxMind DB format 2.0, written here so
//! the country conditions can be tested against the real `maxminddb` reader
//! Portico uses (MaxMind's own test databases are not on crates.io).
//!
//! The file is an IPv6 search tree (IPv4 networks under `::/96`, where the
//! reader looks them up), 24-bit records, a data section holding one
//! `{"country": {"iso_code": ..}}` map per country, and the metadata map.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

/// One record of a search tree node.
#[derive(Clone, Copy)]
enum Record {
    Empty,
    Node(usize),
    /// Offset into the data section.
    Data(usize),
}

/// A GeoIP2-Country database: networks (`"81.2.69.0/24"`, `"2001:db8::/32"`)
/// and their ISO country codes.
pub fn country_database(networks: &[(&str, &str)]) -> Vec<u8> {
    let mut data = Vec::new();
    let mut offsets: BTreeMap<String, usize> = BTreeMap::new();
    let mut nodes: Vec<[Record; 2]> = vec![[Record::Empty; 2]];
    for (net, iso) in networks {
        let offset = *offsets.entry(iso.to_string()).or_insert_with(|| {
            let at = data.len();
            map_header(&mut data, 1);
            string(&mut data, "country");
            map_header(&mut data, 1);
            string(&mut data, "iso_code");
            string(&mut data, iso);
            at
        });
        let (bits, len) = network_bits(net);
        assert!(len > 0, "a network needs a prefix: {net}");
        let mut node = 0;
        for (i, bit) in bits.iter().take(len).enumerate() {
            let side = usize::from(*bit);
            if i == len - 1 {
                nodes[node][side] = Record::Data(offset);
                break;
            }
            node = match nodes[node][side] {
                Record::Node(n) => n,
                _ => {
                    nodes.push([Record::Empty; 2]);
                    let n = nodes.len() - 1;
                    nodes[node][side] = Record::Node(n);
                    n
                }
            };
        }
    }

    let node_count = nodes.len();
    let mut out = Vec::new();
    for node in &nodes {
        for record in node {
            let value = match *record {
                Record::Empty => node_count,
                Record::Node(n) => n,
                Record::Data(off) => node_count + 16 + off,
            };
            assert!(value < 1 << 24, "the database outgrew 24-bit records");
            out.extend_from_slice(&(value as u32).to_be_bytes()[1..]);
        }
    }
    out.extend_from_slice(&[0u8; 16]);
    out.extend_from_slice(&data);

    out.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
    map_header(&mut out, 9);
    string(&mut out, "binary_format_major_version");
    uint(&mut out, 5, 2);
    string(&mut out, "binary_format_minor_version");
    uint(&mut out, 5, 0);
    string(&mut out, "build_epoch");
    uint64(&mut out, 1_765_000_000);
    string(&mut out, "database_type");
    string(&mut out, "GeoIP2-Country");
    string(&mut out, "description");
    map_header(&mut out, 1);
    string(&mut out, "en");
    string(&mut out, "Portico test countries");
    string(&mut out, "ip_version");
    uint(&mut out, 5, 6);
    string(&mut out, "languages");
    array_header(&mut out, 1);
    string(&mut out, "en");
    string(&mut out, "node_count");
    uint(&mut out, 6, node_count as u64);
    string(&mut out, "record_size");
    uint(&mut out, 5, 24);
    out
}

/// Writes [`country_database`] to `path`.
pub fn write_country_database(path: &Path, networks: &[(&str, &str)]) -> std::io::Result<()> {
    std::fs::write(path, country_database(networks))
}

/// The 128 bits of a network in the IPv6 tree, and its prefix length there.
fn network_bits(net: &str) -> (Vec<bool>, usize) {
    let (addr, len) = net.split_once('/').unwrap_or((net, ""));
    let ip: IpAddr = addr
        .parse()
        .unwrap_or_else(|_| panic!("not an address: {net}"));
    let (bytes, offset, max) = match ip {
        IpAddr::V4(v4) => {
            let mut b = [0u8; 16];
            b[12..].copy_from_slice(&v4.octets());
            (b, 96, 32)
        }
        IpAddr::V6(v6) => (v6.octets(), 0, 128),
    };
    let len: usize = if len.is_empty() {
        max
    } else {
        len.parse().unwrap_or_else(|_| panic!("bad prefix: {net}"))
    };
    let bits = bytes
        .iter()
        .flat_map(|b| (0..8).rev().map(move |i| (b >> i) & 1 == 1))
        .collect();
    (bits, offset + len)
}

/// A control byte (and size bytes) for `kind` (1–7) with `size` < 285.
fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
    if size < 29 {
        out.push(kind << 5 | size as u8);
    } else {
        out.push(kind << 5 | 29);
        out.push((size - 29) as u8);
    }
}

fn string(out: &mut Vec<u8>, s: &str) {
    control(out, 2, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn map_header(out: &mut Vec<u8>, pairs: usize) {
    control(out, 7, pairs);
}

/// An array is an extended type (11 = 7 + 4): the size comes first, then
/// the type byte.
fn array_header(out: &mut Vec<u8>, items: usize) {
    out.push(items as u8);
    out.push(4);
}

/// `kind` 5 (uint16) or 6 (uint32), in as few bytes as the value needs.
fn uint(out: &mut Vec<u8>, kind: u8, v: u64) {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    control(out, kind, 8 - skip);
    out.extend_from_slice(&bytes[skip..]);
}

/// uint64 is an extended type (9 = 7 + 2).
fn uint64(out: &mut Vec<u8>, v: u64) {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    out.push((8 - skip) as u8);
    out.push(2);
    out.extend_from_slice(&bytes[skip..]);
}
