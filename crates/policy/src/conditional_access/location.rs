//! Graph's named locations: `ipNamedLocation` (IPv4/IPv6 CIDR ranges, maybe
//! trusted) and `countryNamedLocation` (ISO 3166-1 alpha-2 codes, maybe with
//! `includeUnknownCountriesAndRegions`). Serialized with Graph's `@odata.type`.

use chrono::{DateTime, Utc};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

pub const IP_NAMED_LOCATION: &str = "#microsoft.graph.ipNamedLocation";
pub const COUNTRY_NAMED_LOCATION: &str = "#microsoft.graph.countryNamedLocation";
pub const IPV4_RANGE: &str = "#microsoft.graph.iPv4CidrRange";
pub const IPV6_RANGE: &str = "#microsoft.graph.iPv6CidrRange";

/// A named location, referenced by id from a policy's `conditions.locations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "WireLocation", into = "WireLocation")]
pub struct NamedLocation {
    pub id: String,
    pub display_name: String,
    pub created_date_time: Option<DateTime<Utc>>,
    pub modified_date_time: Option<DateTime<Utc>>,
    pub kind: LocationKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocationKind {
    Ip {
        is_trusted: bool,
        ip_ranges: Vec<CidrRange>,
    },
    Country {
        /// Upper-case ISO 3166-1 alpha-2 codes.
        countries_and_regions: Vec<String>,
        include_unknown_countries_and_regions: bool,
    },
}

/// One `ipRanges` entry (`iPv4CidrRange` or `iPv6CidrRange`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "WireRange", into = "WireRange")]
pub struct CidrRange(pub IpNet);

impl NamedLocation {
    /// An IP location that the sign-in's address falls in and that is trusted.
    pub fn is_trusted(&self) -> bool {
        matches!(
            self.kind,
            LocationKind::Ip {
                is_trusted: true,
                ..
            }
        )
    }

    /// Whether the sign-in is in this location; `None` when that depends on
    /// an input that is unknown (the IP address). An unknown country matches
    /// exactly when `includeUnknownCountriesAndRegions` is set.
    pub fn contains(&self, ip: Option<IpAddr>, country: Option<&str>) -> Option<bool> {
        match &self.kind {
            LocationKind::Ip { ip_ranges, .. } => {
                let ip = canonical(ip?);
                Some(ip_ranges.iter().any(|r| r.0.contains(&ip)))
            }
            LocationKind::Country {
                countries_and_regions,
                include_unknown_countries_and_regions,
            } => Some(match country {
                Some(c) => countries_and_regions
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(c)),
                None => *include_unknown_countries_and_regions,
            }),
        }
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, a dual-stack socket's view
/// of an IPv4 client) is its IPv4 address.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireLocation {
    #[serde(rename = "@odata.type")]
    odata_type: String,
    #[serde(default)]
    id: String,
    display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_date_time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    modified_date_time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    is_trusted: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ip_ranges: Option<Vec<CidrRange>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    countries_and_regions: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    include_unknown_countries_and_regions: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    country_lookup_method: Option<String>,
}

impl TryFrom<WireLocation> for NamedLocation {
    type Error = String;

    fn try_from(w: WireLocation) -> Result<Self, String> {
        let kind = match w.odata_type.as_str() {
            IP_NAMED_LOCATION => LocationKind::Ip {
                is_trusted: w.is_trusted.unwrap_or(false),
                ip_ranges: w.ip_ranges.unwrap_or_default(),
            },
            COUNTRY_NAMED_LOCATION => LocationKind::Country {
                countries_and_regions: w
                    .countries_and_regions
                    .unwrap_or_default()
                    .into_iter()
                    .map(|c| c.to_ascii_uppercase())
                    .collect(),
                include_unknown_countries_and_regions: w
                    .include_unknown_countries_and_regions
                    .unwrap_or(false),
            },
            other => {
                return Err(format!(
                    "@odata.type: unsupported named location type `{other}`"
                ));
            }
        };
        Ok(NamedLocation {
            id: w.id,
            display_name: w.display_name,
            created_date_time: w.created_date_time,
            modified_date_time: w.modified_date_time,
            kind,
        })
    }
}

impl From<NamedLocation> for WireLocation {
    fn from(l: NamedLocation) -> Self {
        let mut w = WireLocation {
            odata_type: String::new(),
            id: l.id,
            display_name: l.display_name,
            created_date_time: l.created_date_time,
            modified_date_time: l.modified_date_time,
            is_trusted: None,
            ip_ranges: None,
            countries_and_regions: None,
            include_unknown_countries_and_regions: None,
            country_lookup_method: None,
        };
        match l.kind {
            LocationKind::Ip {
                is_trusted,
                ip_ranges,
            } => {
                w.odata_type = IP_NAMED_LOCATION.into();
                w.is_trusted = Some(is_trusted);
                w.ip_ranges = Some(ip_ranges);
            }
            LocationKind::Country {
                countries_and_regions,
                include_unknown_countries_and_regions,
            } => {
                w.odata_type = COUNTRY_NAMED_LOCATION.into();
                w.countries_and_regions = Some(countries_and_regions);
                w.include_unknown_countries_and_regions =
                    Some(include_unknown_countries_and_regions);
                w.country_lookup_method = Some("clientIpAddress".into());
            }
        }
        w
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRange {
    #[serde(rename = "@odata.type", default)]
    odata_type: Option<String>,
    cidr_address: String,
}

impl TryFrom<WireRange> for CidrRange {
    type Error = String;

    fn try_from(w: WireRange) -> Result<Self, String> {
        let net: IpNet = w.cidr_address.trim().parse().map_err(|_| {
            format!(
                "`{}` is not a CIDR range (like 203.0.113.0/24 or 2001:db8::/32)",
                w.cidr_address
            )
        })?;
        let expected = match net {
            IpNet::V4(_) => IPV4_RANGE,
            IpNet::V6(_) => IPV6_RANGE,
        };
        match w.odata_type.as_deref() {
            None => {}
            Some(t) if t == expected => {}
            Some(t) => return Err(format!("`{}` is not an {t}", w.cidr_address)),
        }
        Ok(CidrRange(net))
    }
}

impl From<CidrRange> for WireRange {
    fn from(r: CidrRange) -> Self {
        WireRange {
            odata_type: Some(
                match r.0 {
                    IpNet::V4(_) => IPV4_RANGE,
                    IpNet::V6(_) => IPV6_RANGE,
                }
                .into(),
            ),
            cidr_address: r.0.to_string(),
        }
    }
}
