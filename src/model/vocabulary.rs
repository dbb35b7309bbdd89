//! How the fixed vocabularies of the model (outcomes, verdicts, reasons, DNS errors, TLS
//! versions, certificate errors, change kinds, scan states) get their names: once, as serde's
//! snake_case names, which strum turns into `as_str()` and `str::parse` so the JSON, the
//! tables and the database can never spell a value two ways.
//!
//! Owns: the [`vocabulary!`] macro. Must not touch: anything but names.

/// Declares a vocabulary enum: `Copy`, comparable and hashable; serde and strum both name its
/// variants in snake_case (a variant's own `#[serde(rename)]` needs the same
/// `#[strum(serialize)]` beside it — `model::test_support::assert_names_agree` checks every
/// vocabulary); `as_str()` gives the name and `str::parse` reads it back.
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident { $($body:tt)* }
    ) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash,
            ::serde::Serialize, ::serde::Deserialize,
            ::strum::IntoStaticStr, ::strum::EnumString, ::strum::VariantArray,
        )]
        #[serde(rename_all = "snake_case")]
        #[strum(serialize_all = "snake_case")]
        $vis enum $name { $($body)* }

        impl $name {
            /// The value's name in JSON, tables and the database (its serde name);
            /// `str::parse` reads it back.
            pub fn as_str(self) -> &'static str {
                self.into()
            }
        }
    };
}

pub(crate) use vocabulary;
