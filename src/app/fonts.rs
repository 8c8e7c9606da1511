//! The bundled CJK font (a GB2312 level-1 subset of Noto Sans CJK SC, SIL OFL 1.1; see
//! `assets/OFL.txt`), appended as a fallback after egui's default fonts so Chinese image names
//! render identically everywhere, including the headless UI tests.

use std::sync::Arc;

use eframe::egui;

pub const CJK_FONT: &[u8] = include_bytes!("../../assets/NotoSansSC-ImageDesk-subset.otf");

const CJK_FONT_NAME: &str = "noto-sans-sc-subset";

/// Install egui's default fonts plus the CJK fallback on `ctx`.
pub fn install_fonts(ctx: &egui::Context) {
    let mut fonts = egui::FontDefinitions::default();
    fonts.font_data.insert(CJK_FONT_NAME.into(), Arc::new(egui::FontData::from_static(CJK_FONT)));
    for family in [egui::FontFamily::Proportional, egui::FontFamily::Monospace] {
        fonts.families.entry(family).or_default().push(CJK_FONT_NAME.into());
    }
    ctx.set_fonts(fonts);
}
