//! The command palette (Ctrl+K): every action of the window, found by typing part of its name in
//! either UI language.

use super::i18n::{Lang, fill};
use super::inventory::SortColumn;
use super::model::{Owner, Product, Status};

/// Everything the user can do from the keyboard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Refresh,
    Search,
    ClearFilters,
    ToggleJobs,
    CloseDetails,
    SetLanguage(Lang),
    DemoImport,
    Sort(SortColumn),
    ToggleRegion(String),
    FilterStatus(Option<Status>),
    FilterProduct(Option<Product>),
    FilterOwner(Option<Owner>),
}

/// What the palette needs to know about the window to list its actions.
#[derive(Debug)]
pub struct ActionContext<'a> {
    pub sandbox: bool,
    pub lang: Lang,
    /// (region ID, local name)
    pub regions: &'a [(String, String)],
}

impl Action {
    /// Every action available now.
    pub fn all(context: &ActionContext<'_>) -> Vec<Action> {
        let mut actions = vec![
            Action::Refresh,
            Action::Search,
            Action::ClearFilters,
            Action::ToggleJobs,
            Action::CloseDetails,
        ];
        actions.extend(Lang::ALL.into_iter().filter(|l| *l != context.lang).map(Action::SetLanguage));
        if context.sandbox {
            actions.push(Action::DemoImport);
        }
        actions.extend(SortColumn::ALL.into_iter().map(Action::Sort));
        actions.extend(context.regions.iter().map(|(id, _)| Action::ToggleRegion(id.clone())));
        actions.push(Action::FilterStatus(None));
        actions.extend(Status::ALL.into_iter().map(|s| Action::FilterStatus(Some(s))));
        actions.push(Action::FilterProduct(None));
        actions.extend(Product::ALL.into_iter().map(|p| Action::FilterProduct(Some(p))));
        actions.push(Action::FilterOwner(None));
        actions.extend(Owner::ALL.into_iter().map(|o| Action::FilterOwner(Some(o))));
        actions
    }

    /// The action's name in `lang`.
    pub fn label(&self, lang: Lang, context: &ActionContext<'_>) -> String {
        let s = lang.strings();
        match self {
            Self::Refresh => format!("{} (F5)", s.act_refresh),
            Self::Search => format!("{} (Ctrl+F)", s.act_search),
            Self::ClearFilters => s.act_clear.to_owned(),
            Self::ToggleJobs => s.act_jobs.to_owned(),
            Self::CloseDetails => format!("{} (Esc)", s.act_close_details),
            Self::SetLanguage(target) => fill(s.act_language, &[target.native_name()]),
            Self::DemoImport => s.act_demo_import.to_owned(),
            Self::Sort(column) => fill(s.act_sort, &[super::column_title(*column, lang)]),
            Self::ToggleRegion(id) => {
                let local =
                    context.regions.iter().find(|(r, _)| r == id).map_or("", |(_, name)| name.as_str());
                fill(s.act_region, &[&format!("{id} {local}")])
            }
            Self::FilterStatus(status) => fill(s.act_status, &[status.map_or(s.all, |st| s.status_name(st))]),
            Self::FilterProduct(product) => fill(s.act_product, &[product.map_or(s.all, |p| p.label())]),
            Self::FilterOwner(owner) => fill(s.act_owner, &[owner.map_or(s.all, |o| s.owner_name(o))]),
        }
    }
}

/// Whether every word of `query` occurs in `label` (case-insensitively).
pub fn matches(query: &str, label: &str) -> bool {
    let label = label.to_lowercase();
    query.split_whitespace().all(|word| label.contains(&word.to_lowercase()))
}

/// The palette's state.
#[derive(Clone, Debug, Default)]
pub struct PaletteState {
    pub open: bool,
    pub query: String,
    /// Index into the current matches.
    pub highlighted: usize,
}

impl PaletteState {
    pub fn open(&mut self) {
        self.open = true;
        self.query.clear();
        self.highlighted = 0;
    }

    /// Actions matching the query in the UI language or in English, each with its label.
    pub fn matching(&self, context: &ActionContext<'_>) -> Vec<(Action, String)> {
        Action::all(context)
            .into_iter()
            .filter_map(|action| {
                let label = action.label(context.lang, context);
                let english = action.label(Lang::En, context);
                (matches(&self.query, &label) || matches(&self.query, &english)).then_some((action, label))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(lang: Lang) -> ActionContext<'static> {
        static REGIONS: std::sync::LazyLock<Vec<(String, String)>> =
            std::sync::LazyLock::new(|| vec![("cn-beijing".into(), "华北2（北京）".into())]);
        ActionContext { sandbox: true, lang, regions: &REGIONS }
    }

    #[test]
    fn every_action_has_a_distinct_label_in_both_languages() {
        for lang in Lang::ALL {
            let ctx = context(lang);
            let labels: Vec<String> = Action::all(&ctx).iter().map(|a| a.label(lang, &ctx)).collect();
            let mut unique = labels.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), labels.len(), "{labels:?}");
        }
    }

    #[test]
    fn typing_part_of_a_name_finds_the_action_in_either_language() {
        let mut palette = PaletteState { query: "refr".into(), ..PaletteState::default() };
        let found = palette.matching(&context(Lang::En));
        assert_eq!(found.first().map(|(a, _)| a), Some(&Action::Refresh));
        palette.query = "刷新".into();
        assert_eq!(palette.matching(&context(Lang::Zh)).first().map(|(a, _)| a), Some(&Action::Refresh));
        palette.query = "refresh".into();
        assert_eq!(
            palette.matching(&context(Lang::Zh)).first().map(|(a, _)| a),
            Some(&Action::Refresh),
            "English works in the Chinese UI"
        );
        palette.query = "region beijing".into();
        assert_eq!(palette.matching(&context(Lang::En)).len(), 1);
        palette.query = "sort size".into();
        assert_eq!(
            palette.matching(&context(Lang::En)).first().map(|(a, _)| a),
            Some(&Action::Sort(SortColumn::Size))
        );
        palette.query = "zzz".into();
        assert!(palette.matching(&context(Lang::En)).is_empty());
    }

    #[test]
    fn the_sample_import_is_offered_only_in_the_sandbox() {
        let regions = Vec::new();
        let real = ActionContext { sandbox: false, lang: Lang::En, regions: &regions };
        assert!(!Action::all(&real).contains(&Action::DemoImport));
        assert!(Action::all(&context(Lang::En)).contains(&Action::DemoImport));
    }
}
