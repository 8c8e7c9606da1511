//! UI preferences kept between runs in eframe's storage (never secrets: nothing here comes from a
//! credential).

use serde::{Deserialize, Serialize};

use super::i18n::Lang;
use super::inventory::{Filters, SortColumn};

/// The storage key.
pub const PREFS_KEY: &str = "imagedesk.prefs";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Prefs {
    /// `None` = follow the OS locale.
    pub lang: Option<Lang>,
    /// The regions the inventory shows.
    pub regions: Vec<String>,
    pub filters: Filters,
    pub sort: SortColumn,
    pub ascending: bool,
    pub show_jobs: bool,
    /// Index of the chosen profile.
    pub profile: usize,
}

impl Default for Prefs {
    fn default() -> Self {
        Self {
            lang: None,
            regions: vec!["cn-hangzhou".into(), "cn-beijing".into()],
            filters: Filters::default(),
            // Newest first, as in the consoles.
            sort: SortColumn::Created,
            ascending: false,
            show_jobs: true,
            profile: 0,
        }
    }
}

impl Prefs {
    /// Parse stored preferences; anything unreadable falls back to the defaults (a preference
    /// file is never worth refusing to start over).
    pub fn from_json(text: &str) -> Self {
        serde_json::from_str(text).unwrap_or_else(|e| {
            tracing::warn!("ignoring unreadable preferences: {e}");
            Self::default()
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::model::Status;

    #[test]
    fn prefs_round_trip_and_bad_input_falls_back_to_defaults() {
        let mut prefs = Prefs { lang: Some(Lang::Zh), ..Prefs::default() };
        prefs.filters.status = Some(Status::Creating);
        prefs.regions = vec!["cn-shanghai".into()];
        assert_eq!(Prefs::from_json(&prefs.to_json()), prefs);
        assert_eq!(Prefs::from_json("{not json"), Prefs::default());
        assert_eq!(
            Prefs::from_json(r#"{"show_jobs": false}"#).regions,
            Prefs::default().regions,
            "missing fields default"
        );
    }
}
