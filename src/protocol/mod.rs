//! Layer 1 — the wire protocol: encoding, parameters, signing, typed operations, errors and
//! validation. Pure functions and data; no I/O, no UI, no global state.

pub mod catalog;
pub mod crc64;
pub mod de;
pub mod encode;
pub mod error;
pub mod ops;
pub mod params;
pub mod sign;
pub mod validate;

use std::fmt;

/// The RPC API families ImageDesk talks to (Apsara Stack reuses these with another endpoint style).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Product {
    Ecs,
    Ens,
    EhpcInstant,
    /// Security Token Service (AssumeRole for RamRoleArn profiles).
    Sts,
}

impl Product {
    pub const ALL: [Product; 4] = [Product::Ecs, Product::Ens, Product::EhpcInstant, Product::Sts];

    /// The `Version` parameter / `x-acs-version` header.
    pub fn version(self) -> &'static str {
        match self {
            Product::Ecs => "2014-05-26",
            Product::Ens => "2017-11-10",
            Product::EhpcInstant => "2023-07-01",
            Product::Sts => "2015-04-01",
        }
    }

    /// Product code as used in troubleshooting URLs, RAM and the Apsara `Product` parameter.
    pub fn code(self) -> &'static str {
        match self {
            Product::Ecs => "Ecs",
            Product::Ens => "Ens",
            Product::EhpcInstant => "EhpcInstant",
            Product::Sts => "Sts",
        }
    }

    /// Identify a product from its `Version` parameter (what a server routes by).
    pub fn from_version(version: &str) -> Option<Product> {
        Product::ALL.into_iter().find(|p| p.version() == version)
    }
}

impl fmt::Display for Product {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
