//! Enums written as one word each (`get`, `admin`, `DockerImage`, `ADDED`): one list of variants
//! with their words, from which the enum, its `ALL`, `as_str`, `parse` and `Display` are made.

/// Declares an enum whose every variant is written as the word given with it, with `ALL` (every
/// value, in declaration order), `as_str` (its word), `parse` (the value a word names) and
/// `Display` (its word). The enum's attributes and doc comments, and its variants', are kept.
macro_rules! word_enum {
    (
        $(#[$attr:meta])*
        pub enum $name:ident {
            $($(#[$variant_attr:meta])* $variant:ident = $word:literal,)*
        }
    ) => {
        $(#[$attr])*
        pub enum $name {
            $($(#[$variant_attr])* $variant,)*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [Self; [$($word),*].len()] = [$(Self::$variant),*];

            /// The word it is written as.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $word,)*
                }
            }

            /// The value `s` names, if any.
            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.into_iter().find(|v| v.as_str() == s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use word_enum;
