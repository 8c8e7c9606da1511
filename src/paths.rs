//! Where ImageDesk keeps things, by the XDG base-directory rules (each a pure function of the
//! environment, so tests pass their own).

use std::path::{Path, PathBuf};

fn base(get: &impl Fn(&str) -> Option<String>, variable: &str, fallback_below_home: &str) -> PathBuf {
    get(variable)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            get("HOME").filter(|v| !v.is_empty()).map(|home| Path::new(&home).join(fallback_below_home))
        })
        .unwrap_or_else(|| PathBuf::from("."))
        .join("imagedesk")
}

/// `$XDG_CONFIG_HOME/imagedesk`, else `~/.config/imagedesk`.
pub fn config_dir(get: impl Fn(&str) -> Option<String>) -> PathBuf {
    base(&get, "XDG_CONFIG_HOME", ".config")
}

/// `$XDG_DATA_HOME/imagedesk`, else `~/.local/share/imagedesk`.
pub fn data_dir(get: impl Fn(&str) -> Option<String>) -> PathBuf {
    base(&get, "XDG_DATA_HOME", ".local/share")
}

/// The process environment, for the functions above.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn xdg_variables_win_then_home_then_the_working_directory() {
        assert_eq!(config_dir(vars(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")])), Path::new("/x/imagedesk"));
        assert_eq!(
            config_dir(vars(&[("XDG_CONFIG_HOME", ""), ("HOME", "/h")])),
            Path::new("/h/.config/imagedesk")
        );
        assert_eq!(data_dir(vars(&[("HOME", "/h")])), Path::new("/h/.local/share/imagedesk"));
        assert_eq!(data_dir(vars(&[])), Path::new("./imagedesk"));
    }
}
