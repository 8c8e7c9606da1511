//! The inventory's state: rows from every listing, filters, sort, selection and the per-listing
//! loading/error status. Pure data (no handles, no I/O); the filtered and sorted view is cached
//! and recomputed only when rows, filters or sort change, so a frame over 100 000 rows costs the
//! same as one over 100.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::model::{ImageRow, Owner, Product, RowKey, Source, Status};
use super::worker::Failure;

/// Table columns in display order; also the sort keys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SortColumn {
    #[default]
    Name,
    Id,
    Product,
    Region,
    Status,
    Progress,
    Size,
    Os,
    Architecture,
    Family,
    BootMode,
    Created,
}

impl SortColumn {
    pub const ALL: [SortColumn; 12] = [
        Self::Name,
        Self::Id,
        Self::Product,
        Self::Region,
        Self::Status,
        Self::Progress,
        Self::Size,
        Self::Os,
        Self::Architecture,
        Self::Family,
        Self::BootMode,
        Self::Created,
    ];

    fn compare(self, a: &ImageRow, b: &ImageRow) -> Ordering {
        match self {
            Self::Name => a.name_key.cmp(&b.name_key),
            Self::Id => a.id.cmp(&b.id),
            Self::Product => a.product.cmp(&b.product),
            Self::Region => a.region.cmp(&b.region),
            Self::Status => a.status.cmp(&b.status),
            Self::Progress => a.progress.cmp(&b.progress),
            Self::Size => a.size_gib.cmp(&b.size_gib),
            Self::Os => a.os.cmp(&b.os),
            Self::Architecture => a.architecture.cmp(&b.architecture),
            Self::Family => a.family.cmp(&b.family),
            Self::BootMode => a.boot_mode.cmp(&b.boot_mode),
            Self::Created => a.created_at.cmp(&b.created_at).then_with(|| a.created.cmp(&b.created)),
        }
    }
}

/// What narrows the table. `None` = no restriction.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filters {
    /// Case-insensitive substring of name, ID, OS or family.
    pub search: String,
    pub status: Option<Status>,
    pub product: Option<Product>,
    pub family: Option<String>,
    pub owner: Option<Owner>,
    /// `key` or `key=value`.
    pub tag: Option<String>,
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    fn accepts(&self, row: &ImageRow, needle: &str) -> bool {
        (needle.is_empty() || row.search_key.contains(needle))
            && self.status.is_none_or(|s| row.status == s)
            && self.product.is_none_or(|p| row.product == p)
            && self.family.as_ref().is_none_or(|f| &row.family == f)
            && self.owner.is_none_or(|o| row.owner == o)
            && self.tag.as_ref().is_none_or(|t| row.has_tag(t))
    }
}

/// Loading state of one listing (a product in a region).
#[derive(Clone, Debug, Default)]
pub struct SourceState {
    pub loading: bool,
    pub error: Option<Failure>,
    /// Its rows are from an earlier listing (a refresh is running or failed).
    pub stale: bool,
    pub loaded: bool,
}

/// What the sorted order depends on.
#[derive(Clone, Copy, Debug, PartialEq)]
struct OrderKey {
    sort: SortColumn,
    ascending: bool,
    version: u64,
}

#[derive(Clone, Debug, PartialEq)]
struct ViewKey {
    filters: Filters,
    sort: SortColumn,
    ascending: bool,
    version: u64,
}

#[derive(Clone, Debug)]
pub struct InventoryState {
    rows: Vec<ImageRow>,
    /// Bumped on every change to `rows`.
    version: u64,
    pub filters: Filters,
    pub sort: SortColumn,
    pub ascending: bool,
    pub selected: Option<RowKey>,
    pub sources: BTreeMap<Source, SourceState>,
    /// Every row index in sort order; a keystroke in the search box only re-filters this.
    order: Vec<usize>,
    order_key: Option<OrderKey>,
    view: Vec<usize>,
    view_key: Option<ViewKey>,
    families: Vec<String>,
    tags: Vec<String>,
}

impl Default for InventoryState {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            version: 0,
            filters: Filters::default(),
            sort: SortColumn::Name,
            ascending: true,
            selected: None,
            sources: BTreeMap::new(),
            order: Vec::new(),
            order_key: None,
            view: Vec::new(),
            view_key: None,
            families: Vec::new(),
            tags: Vec::new(),
        }
    }
}

impl InventoryState {
    pub fn rows(&self) -> &[ImageRow] {
        &self.rows
    }

    /// Replace every row (benchmarks, tests).
    pub fn set_rows(&mut self, rows: Vec<ImageRow>) {
        self.rows = rows;
        self.rows_changed();
    }

    fn rows_changed(&mut self) {
        self.version += 1;
        let families: BTreeSet<&str> =
            self.rows.iter().map(|r| r.family.as_str()).filter(|f| !f.is_empty()).collect();
        self.families = families.into_iter().map(str::to_owned).collect();
        let mut tags = BTreeSet::new();
        for row in &self.rows {
            for (key, value) in &row.tags {
                tags.insert(key.clone());
                if !value.is_empty() {
                    tags.insert(format!("{key}={value}"));
                }
            }
        }
        self.tags = tags.into_iter().collect();
        if let Some(key) = &self.selected
            && !self.rows.iter().any(|r| r.is_key(key))
        {
            self.selected = None;
        }
    }

    /// Distinct image families, for the family filter.
    pub fn families(&self) -> &[String] {
        &self.families
    }

    /// Distinct tag keys and `key=value` pairs, for the tag filter.
    pub fn tags(&self) -> &[String] {
        &self.tags
    }

    /// Recompute the view if rows, filters or sort changed since the last call.
    pub fn update_view(&mut self) {
        let key = ViewKey {
            filters: self.filters.clone(),
            sort: self.sort,
            ascending: self.ascending,
            version: self.version,
        };
        if self.view_key.as_ref() == Some(&key) {
            return;
        }
        let order_key = OrderKey { sort: self.sort, ascending: self.ascending, version: self.version };
        if self.order_key != Some(order_key) {
            let rows = &self.rows;
            let (sort, ascending) = (self.sort, self.ascending);
            let mut order: Vec<usize> = (0..rows.len()).collect();
            order.sort_unstable_by(|&a, &b| {
                let (a, b) = (&rows[a], &rows[b]);
                let order = sort
                    .compare(a, b)
                    .then_with(|| a.id.cmp(&b.id))
                    .then_with(|| a.product.cmp(&b.product))
                    .then_with(|| a.source_region.cmp(&b.source_region));
                if ascending { order } else { order.reverse() }
            });
            self.order = order;
            self.order_key = Some(order_key);
        }
        let needle = self.filters.search.trim().to_lowercase();
        let view: Vec<usize> =
            self.order.iter().copied().filter(|&i| self.filters.accepts(&self.rows[i], &needle)).collect();
        self.view = view;
        self.view_key = Some(key);
    }

    /// Indices into [`Self::rows`] in display order, as of the last [`Self::update_view`].
    pub fn view(&self) -> &[usize] {
        &self.view
    }

    /// Convenience for tests: update, then the visible rows.
    pub fn visible(&mut self) -> Vec<&ImageRow> {
        self.update_view();
        self.view.iter().map(|&i| &self.rows[i]).collect()
    }

    pub fn selected_row(&self) -> Option<&ImageRow> {
        let key = self.selected.as_ref()?;
        self.rows.iter().find(|r| r.is_key(key))
    }

    /// Click on a column header: sort by it, or flip the direction if it already is the key.
    pub fn toggle_sort(&mut self, column: SortColumn) {
        if self.sort == column {
            self.ascending = !self.ascending;
        } else {
            self.sort = column;
            self.ascending = true;
        }
    }

    /// Move the selection `delta` rows within the view (arrow keys); selects the first row if none.
    pub fn move_selection(&mut self, delta: isize) {
        self.update_view();
        if self.view.is_empty() {
            return;
        }
        let current =
            self.selected.as_ref().and_then(|key| self.view.iter().position(|&i| self.rows[i].is_key(key)));
        let last = self.view.len() - 1;
        let next = match current {
            None => {
                if delta >= 0 {
                    0
                } else {
                    last
                }
            }
            Some(position) => position.saturating_add_signed(delta).min(last),
        };
        self.selected = Some(self.rows[self.view[next]].key());
    }

    /// Position of the selection within the view.
    pub fn selected_position(&self) -> Option<usize> {
        let key = self.selected.as_ref()?;
        self.view.iter().position(|&i| self.rows[i].is_key(key))
    }

    /// A refresh of exactly `sources` begins: rows of listings no longer wanted go, the others
    /// stay visible, marked stale until their new listing arrives.
    pub fn begin_refresh(&mut self, sources: &[Source]) {
        let wanted: BTreeSet<&Source> = sources.iter().collect();
        let before = self.rows.len();
        self.rows.retain(|row| wanted.contains(&row.source()));
        self.sources.retain(|source, _| wanted.contains(source));
        for source in sources {
            let state = self.sources.entry(source.clone()).or_default();
            state.loading = true;
            state.stale = state.loaded;
        }
        if self.rows.len() != before {
            self.rows_changed();
        }
    }

    /// A listing arrived: on success its rows replace that source's rows; on failure the old rows
    /// stay, marked stale, and the error shows in place.
    pub fn apply_listing(&mut self, source: Source, result: Result<Vec<ImageRow>, Failure>) {
        let state = self.sources.entry(source.clone()).or_default();
        state.loading = false;
        match result {
            Ok(rows) => {
                state.error = None;
                state.stale = false;
                state.loaded = true;
                self.rows.retain(|row| row.source() != source);
                self.rows.extend(rows);
                self.rows_changed();
            }
            Err(failure) => {
                state.error = Some(failure);
                state.stale = state.loaded;
            }
        }
    }

    /// Fresh rows for single images (polls); unknown ones are added, `gone` ones removed.
    pub fn apply_updates(&mut self, updates: Vec<ImageRow>, gone: &[RowKey]) {
        if updates.is_empty() && gone.is_empty() {
            return;
        }
        let positions: HashMap<RowKey, usize> =
            self.rows.iter().enumerate().map(|(i, r)| (r.key(), i)).collect();
        for row in updates {
            match positions.get(&row.key()) {
                Some(&index) => self.rows[index] = row,
                None => self.rows.push(row),
            }
        }
        if !gone.is_empty() {
            self.rows.retain(|row| !gone.iter().any(|key| row.is_key(key)));
        }
        self.rows_changed();
    }

    pub fn any_loading(&self) -> bool {
        self.sources.values().any(|s| s.loading)
    }

    pub fn any_stale(&self) -> bool {
        self.sources.values().any(|s| s.stale)
    }

    /// Listings that failed, with their errors.
    pub fn errors(&self) -> impl Iterator<Item = (&Source, &Failure)> {
        self.sources.iter().filter_map(|(source, state)| state.error.as_ref().map(|e| (source, e)))
    }

    pub fn loaded(&self) -> bool {
        self.sources.values().any(|s| s.loaded)
    }

    /// Every row still changing.
    pub fn in_flight(&self) -> impl Iterator<Item = &ImageRow> {
        self.rows.iter().filter(|r| r.status.in_flight())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ops::ecs;

    fn image(id: &str, name: &str, status: &str, size: u64, family: &str) -> ecs::Image {
        ecs::Image {
            image_id: id.into(),
            image_name: name.into(),
            status: status.into(),
            size,
            image_family: family.into(),
            image_owner_alias: "self".into(),
            ..Default::default()
        }
    }

    fn hz() -> Source {
        Source { product: Product::Ecs, region: "cn-hangzhou".into() }
    }

    fn state() -> InventoryState {
        let mut s = InventoryState::default();
        let rows = vec![
            image("m-3", "web-base", "Available", 40, "web"),
            image("m-1", "中文镜像-centos", "Creating", 20, ""),
            image("m-2", "Db-MySQL", "CreateFailed", 80, "db"),
            image("m-4", "web-nginx", "Available", 20, "web"),
        ];
        s.begin_refresh(&[hz()]);
        s.apply_listing(hz(), Ok(rows.into_iter().map(|i| ImageRow::from_ecs("cn-hangzhou", i)).collect()));
        s
    }

    fn ids(state: &mut InventoryState) -> Vec<String> {
        state.visible().into_iter().map(|r| r.id.clone()).collect()
    }

    fn failure() -> Failure {
        Failure::plain("boom")
    }

    #[test]
    fn default_sort_is_by_name_case_insensitive() {
        assert_eq!(ids(&mut state()), ["m-2", "m-3", "m-4", "m-1"]);
    }

    #[test]
    fn search_matches_name_or_id_case_insensitively() {
        let mut s = state();
        s.filters.search = " WEB ".into();
        assert_eq!(ids(&mut s), ["m-3", "m-4"]);
        s.filters.search = "中文".into();
        assert_eq!(ids(&mut s), ["m-1"]);
        s.filters.search = "M-2".into();
        assert_eq!(ids(&mut s), ["m-2"]);
        s.filters.search = "nothing".into();
        assert!(ids(&mut s).is_empty());
    }

    #[test]
    fn filters_and_sort_compose() {
        let mut s = state();
        s.filters.status = Some(Status::Available);
        s.toggle_sort(SortColumn::Size);
        assert_eq!(ids(&mut s), ["m-4", "m-3"]);
        s.toggle_sort(SortColumn::Size);
        assert!(!s.ascending);
        assert_eq!(ids(&mut s), ["m-3", "m-4"]);
        s.filters.status = None;
        assert_eq!(ids(&mut s), ["m-2", "m-3", "m-4", "m-1"], "ties broken by ID, reversed with the rest");
        s.filters.family = Some("web".into());
        assert_eq!(ids(&mut s), ["m-3", "m-4"]);
        assert_eq!(s.families(), ["db", "web"]);
        s.filters.family = None;
        s.filters.owner = Some(Owner::Shared);
        assert!(ids(&mut s).is_empty());
        s.filters.owner = Some(Owner::Own);
        s.filters.product = Some(Product::Ens);
        assert!(ids(&mut s).is_empty());
        s.filters.product = Some(Product::Ecs);
        assert_eq!(ids(&mut s).len(), 4);
    }

    #[test]
    fn the_view_is_cached_until_something_changes() {
        let mut s = state();
        s.update_view();
        let key = s.view_key.clone();
        s.update_view();
        assert_eq!(s.view_key, key);
        s.filters.search = "web".into();
        s.update_view();
        assert_ne!(s.view_key, key);
        assert_eq!(s.view().len(), 2);
    }

    #[test]
    fn a_failed_refresh_keeps_the_old_rows_as_stale_and_a_vanished_selection_goes() {
        let mut s = state();
        s.selected = Some(RowKey { product: Product::Ecs, region: "cn-hangzhou".into(), id: "m-2".into() });
        s.begin_refresh(&[hz()]);
        assert!(s.any_loading() && s.any_stale() && s.rows().len() == 4);
        s.apply_listing(hz(), Err(failure()));
        assert!(!s.any_loading() && s.any_stale() && s.errors().count() == 1 && s.rows().len() == 4);
        s.apply_listing(
            hz(),
            Ok(vec![ImageRow::from_ecs("cn-hangzhou", image("m-9", "new", "Available", 1, ""))]),
        );
        assert!(!s.any_stale() && s.errors().count() == 0 && s.loaded());
        assert_eq!(s.selected, None);
    }

    #[test]
    fn deselected_regions_drop_their_rows() {
        let mut s = state();
        let bj = Source { product: Product::Ecs, region: "cn-beijing".into() };
        s.begin_refresh(std::slice::from_ref(&bj));
        assert!(s.rows().is_empty());
        assert_eq!(s.sources.keys().collect::<Vec<_>>(), [&bj]);
    }

    #[test]
    fn updates_replace_add_and_remove_rows() {
        let mut s = state();
        let mut moving = image("m-1", "中文镜像-centos", "Creating", 20, "");
        moving.progress = "60%".into();
        s.apply_updates(vec![ImageRow::from_ecs("cn-hangzhou", moving)], &[]);
        let row = s.rows().iter().find(|r| r.id == "m-1").unwrap();
        assert_eq!(row.progress, Some(60));
        let gone = RowKey { product: Product::Ecs, region: "cn-hangzhou".into(), id: "m-2".into() };
        s.apply_updates(
            vec![ImageRow::from_ecs("cn-hangzhou", image("m-7", "x", "Creating", 1, ""))],
            &[gone],
        );
        assert_eq!(ids(&mut s), ["m-3", "m-4", "m-7", "m-1"]);
        assert_eq!(s.in_flight().count(), 2);
    }

    #[test]
    fn arrow_keys_move_the_selection_within_the_view() {
        let mut s = state();
        s.move_selection(1);
        assert_eq!(s.selected.as_ref().unwrap().id, "m-2");
        s.move_selection(1);
        s.move_selection(1);
        assert_eq!(s.selected.as_ref().unwrap().id, "m-4");
        s.move_selection(10);
        assert_eq!(s.selected.as_ref().unwrap().id, "m-1");
        s.move_selection(-100);
        assert_eq!(s.selected.as_ref().unwrap().id, "m-2");
        assert_eq!(s.selected_position(), Some(0));
    }
}
