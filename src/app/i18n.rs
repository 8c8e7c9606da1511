//! Every UI string in English and Simplified Chinese. One struct with a field per string, so the
//! compiler refuses a string that exists in one language only.

use serde::{Deserialize, Serialize};

use super::model::{Owner, Status};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Zh];

    /// From POSIX locale variables (`LC_ALL` > `LC_MESSAGES` > `LANG`, the first non-empty one):
    /// any `zh…` locale picks Chinese.
    pub fn from_locale_vars(get: impl Fn(&str) -> Option<String>) -> Self {
        let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .into_iter()
            .find_map(|name| get(name).filter(|v| !v.is_empty()));
        match locale {
            Some(value) if value.to_ascii_lowercase().starts_with("zh") => Self::Zh,
            _ => Self::En,
        }
    }

    /// The OS locale of this process.
    pub fn from_os() -> Self {
        Self::from_locale_vars(|name| std::env::var(name).ok())
    }

    pub fn strings(self) -> &'static Strings {
        match self {
            Self::En => &EN,
            Self::Zh => &ZH,
        }
    }

    /// A language's own name (shown the same in both UIs).
    pub fn native_name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::Zh => "简体中文",
        }
    }
}

/// Replace `{0}`, `{1}`, … in `template`.
pub fn fill(template: &str, args: &[&str]) -> String {
    let mut text = template.to_owned();
    for (index, arg) in args.iter().enumerate() {
        text = text.replace(&format!("{{{index}}}"), arg);
    }
    text
}

#[derive(Debug)]
pub struct Strings {
    pub sandbox_banner: &'static str,
    pub account_env: &'static str,
    pub profile: &'static str,
    pub profile_sandbox: &'static str,
    pub regions: &'static str,
    pub regions_selected: &'static str,
    pub regions_loading: &'static str,
    pub refresh: &'static str,
    pub loading: &'static str,
    pub language: &'static str,
    pub jobs_button: &'static str,
    pub palette_button: &'static str,
    pub search: &'static str,
    pub search_hint: &'static str,
    pub status: &'static str,
    pub product: &'static str,
    pub family: &'static str,
    pub owner: &'static str,
    pub tag: &'static str,
    pub all: &'static str,
    pub clear_filters: &'static str,
    pub count: &'static str,
    pub no_match: &'static str,
    pub no_images: &'static str,
    pub stale: &'static str,
    pub source_error: &'static str,
    pub retry: &'static str,
    pub advice: &'static str,
    pub col_name: &'static str,
    pub col_id: &'static str,
    pub col_region: &'static str,
    pub col_progress: &'static str,
    pub col_size: &'static str,
    pub col_os: &'static str,
    pub col_arch: &'static str,
    pub col_boot: &'static str,
    pub col_created: &'static str,
    pub details: &'static str,
    pub close: &'static str,
    pub disks: &'static str,
    pub tags: &'static str,
    pub task: &'static str,
    pub no_task: &'static str,
    pub tasks_loading: &'static str,
    pub all_fields: &'static str,
    pub jobs_title: &'static str,
    pub jobs_empty: &'static str,
    pub job_rate: &'static str,
    pub job_eta: &'static str,
    pub job_done: &'static str,
    pub job_failed: &'static str,
    pub job_clear: &'static str,
    pub job_no_progress: &'static str,
    pub sandbox_hover: &'static str,
    pub tl_seen: &'static str,
    pub tl_progress: &'static str,
    pub tl_status: &'static str,
    pub tl_started: &'static str,
    pub toast_ready: &'static str,
    pub toast_failed: &'static str,
    pub toast_failed_advice: &'static str,
    pub toast_action_failed: &'static str,
    pub palette_title: &'static str,
    pub palette_hint: &'static str,
    pub palette_none: &'static str,
    pub act_refresh: &'static str,
    pub act_search: &'static str,
    pub act_clear: &'static str,
    pub act_jobs: &'static str,
    pub act_close_details: &'static str,
    pub act_language: &'static str,
    pub act_demo_import: &'static str,
    pub act_sort: &'static str,
    pub act_region: &'static str,
    pub act_status: &'static str,
    pub act_product: &'static str,
    pub act_owner: &'static str,
    pub demo_import: &'static str,
    pub demo_started: &'static str,
    pub worker_failed: &'static str,
    pub profiles_button: &'static str,
    pub profiles_title: &'static str,
    pub saved_profiles: &'static str,
    pub no_saved_profiles: &'static str,
    pub secrets_in: &'static str,
    pub keychain_missing: &'static str,
    pub new_profile: &'static str,
    pub f_name: &'static str,
    pub f_kind: &'static str,
    pub f_mode: &'static str,
    pub f_key_id: &'static str,
    pub f_secret: &'static str,
    pub f_reveal: &'static str,
    pub f_token: &'static str,
    pub f_role_arn: &'static str,
    pub f_session: &'static str,
    pub f_duration: &'static str,
    pub f_role_name: &'static str,
    pub f_region: &'static str,
    pub f_endpoint: &'static str,
    pub f_style: &'static str,
    pub f_org: &'static str,
    pub f_rg: &'static str,
    pub f_ca: &'static str,
    pub f_http: &'static str,
    pub kind_cloud: &'static str,
    pub kind_apsara: &'static str,
    pub test_connection: &'static str,
    pub testing: &'static str,
    pub save_profile: &'static str,
    pub fix_fields: &'static str,
    pub profile_saved: &'static str,
    pub profile_save_failed: &'static str,
    pub clock_diff: &'static str,
    pub import_title: &'static str,
    pub import_scan: &'static str,
    pub import_searched: &'static str,
    pub import_none: &'static str,
    pub import_selected: &'static str,
    pub import_cannot: &'static str,
    pub import_hint: &'static str,
    pub session_only: &'static str,
    pub delete_profile: &'static str,
    pub delete_profile_hint: &'static str,
    pub profile_deleted: &'static str,
    pub audit_button: &'static str,
    pub audit_filter: &'static str,
    pub audit_errors_only: &'static str,
    pub audit_export_path: &'static str,
    pub audit_export_csv: &'static str,
    pub audit_export_jsonl: &'static str,
    pub audit_exported: &'static str,
    pub audit_empty: &'static str,
    pub audit_unreadable: &'static str,
    pub audit_reload: &'static str,
    pub audit_count: &'static str,
    pub audit_time: &'static str,
    pub audit_action: &'static str,
    pub audit_result: &'static str,
    pub audit_request: &'static str,
    pub status_names: [&'static str; 7],
    pub owner_names: [&'static str; 4],
}

impl Strings {
    pub fn status_name(&self, status: Status) -> &'static str {
        let index = Status::ALL.iter().position(|s| *s == status).unwrap_or(Status::ALL.len() - 1);
        self.status_names[index]
    }

    pub fn owner_name(&self, owner: Owner) -> &'static str {
        let index = Owner::ALL.iter().position(|o| *o == owner).unwrap_or(0);
        self.owner_names[index]
    }
}

pub static EN: Strings = Strings {
    sandbox_banner: "Sandbox · no account configured",
    account_env: "Account from environment",
    profile: "Profile",
    profile_sandbox: "Sandbox (built-in)",
    regions: "Regions",
    regions_selected: "{0} regions",
    regions_loading: "Loading regions…",
    refresh: "Refresh",
    loading: "Loading…",
    language: "Language",
    jobs_button: "Activity ({0})",
    palette_button: "Commands",
    search: "Search",
    search_hint: "name, ID, OS or family (Ctrl+F)",
    status: "Status",
    product: "Product",
    family: "Family",
    owner: "Owner",
    tag: "Tag",
    all: "All",
    clear_filters: "Clear filters",
    count: "{0} of {1} images",
    no_match: "No image matches the search and filters.",
    no_images: "No images in the selected regions.",
    stale: "Showing the last successful listing (stale).",
    source_error: "{0} in {1} could not be listed:",
    retry: "Retry",
    advice: "What to do:",
    col_name: "Name",
    col_id: "ID",
    col_region: "Region",
    col_progress: "Progress",
    col_size: "Size",
    col_os: "OS",
    col_arch: "Architecture",
    col_boot: "Boot mode",
    col_created: "Created",
    details: "Details",
    close: "Close",
    disks: "Disks",
    tags: "Tags",
    task: "Task",
    no_task: "No task for this image.",
    tasks_loading: "Looking up tasks…",
    all_fields: "All fields",
    jobs_title: "Activity",
    jobs_empty: "Nothing in flight.",
    job_rate: "{0} %/min",
    job_eta: "about {0} left",
    job_done: "Finished",
    job_failed: "Failed",
    job_clear: "Clear finished",
    job_no_progress: "in progress (this API reports no percentage)",
    sandbox_hover: "ImageDesk runs its built-in sandbox because no account is configured: it emulates ECS, ENS, E-HPC Instant and OSS on this computer, so every feature can be tried safely. Set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET to use a real account.",
    tl_seen: "Seen {0} at {1}%",
    tl_progress: "{0}%",
    tl_status: "Now {0}",
    tl_started: "Started ({0})",
    toast_ready: "{0} is ready ({1})",
    toast_failed: "{0} failed ({1})",
    toast_failed_advice: "Open the image's details for its task; a failed import usually means the OSS object is not a disk image or its format/size were wrong.",
    toast_action_failed: "{0} failed",
    palette_title: "Command palette",
    palette_hint: "Type a command…",
    palette_none: "No command matches.",
    act_refresh: "Refresh the inventory",
    act_search: "Search images",
    act_clear: "Clear filters",
    act_jobs: "Show or hide Activity",
    act_close_details: "Close details",
    act_language: "Switch language to {0}",
    act_demo_import: "Import the sample image (sandbox)",
    act_sort: "Sort by {0}",
    act_region: "Show or hide region {0}",
    act_status: "Filter status: {0}",
    act_product: "Filter product: {0}",
    act_owner: "Filter owner: {0}",
    demo_import: "Import sample image",
    demo_started: "Import of {0} started (task {1})",
    worker_failed: "Cannot start the background worker: {0}",
    profiles_button: "Profiles",
    profiles_title: "Profiles",
    saved_profiles: "Saved profiles",
    no_saved_profiles: "No saved profiles yet.",
    secrets_in: "Secrets are kept in: {0}",
    keychain_missing: "No keychain is available ({0}). Profiles saved now keep their secrets in memory for this session only; nothing is written to disk.",
    new_profile: "New profile",
    f_name: "Profile name",
    f_kind: "Cloud",
    f_mode: "Credential mode",
    f_key_id: "AccessKey ID",
    f_secret: "AccessKey secret",
    f_reveal: "Show secret",
    f_token: "Security token",
    f_role_arn: "Role ARN",
    f_session: "Session name",
    f_duration: "Session duration (s)",
    f_role_name: "ECS role name",
    f_region: "Default region",
    f_endpoint: "Endpoint (optional)",
    f_style: "Request style",
    f_org: "Organization ID",
    f_rg: "Resource group ID",
    f_ca: "CA certificate (PEM path)",
    f_http: "Allow plain HTTP",
    kind_cloud: "Alibaba Cloud",
    kind_apsara: "Apsara Stack",
    test_connection: "Test connection",
    testing: "Testing…",
    save_profile: "Save profile",
    fix_fields: "Fix the {0} fields marked in red first.",
    profile_saved: "Profile {0} saved; its secrets are in {1}",
    profile_save_failed: "Profile not saved",
    clock_diff: "Clock difference with the server: {0} s",
    import_title: "Import existing credentials",
    import_scan: "Look for credentials",
    import_searched: "Looked in: {0}",
    import_none: "No credentials found there.",
    import_selected: "Import selected ({0})",
    import_cannot: "cannot be imported: {0}",
    import_hint: "Secrets go to the keychain; nothing is copied into ImageDesk's files.",
    session_only: "this session only: nothing was written to disk",
    delete_profile: "Delete {0}",
    delete_profile_hint: "Removes the profile and its secrets from the keychain",
    profile_deleted: "Profile {0} deleted, with its secrets",
    audit_button: "Audit log",
    audit_filter: "Filter",
    audit_errors_only: "Errors only",
    audit_export_path: "Export to",
    audit_export_csv: "Export CSV",
    audit_export_jsonl: "Export JSON Lines",
    audit_exported: "Exported {0} entries to {1}",
    audit_empty: "No mutating call recorded yet.",
    audit_unreadable: "{0} unreadable lines skipped",
    audit_reload: "Reload",
    audit_count: "{0} of {1} entries",
    audit_time: "Time",
    audit_action: "Action",
    audit_result: "Result",
    audit_request: "Request ID",
    status_names: ["Creating", "Waiting", "Available", "Deprecated", "Unavailable", "Failed", "Unknown"],
    owner_names: ["Mine", "Shared", "Public", "Marketplace"],
};

pub static ZH: Strings = Strings {
    sandbox_banner: "沙箱 · 尚未配置账号",
    account_env: "环境变量中的账号",
    profile: "配置",
    profile_sandbox: "沙箱（内置）",
    regions: "地域",
    regions_selected: "{0} 个地域",
    regions_loading: "正在加载地域…",
    refresh: "刷新",
    loading: "加载中…",
    language: "语言",
    jobs_button: "活动 ({0})",
    palette_button: "命令",
    search: "搜索",
    search_hint: "名称、ID、操作系统或族系 (Ctrl+F)",
    status: "状态",
    product: "产品",
    family: "镜像族系",
    owner: "来源",
    tag: "标签",
    all: "全部",
    clear_filters: "清除筛选",
    count: "{0} / {1} 个镜像",
    no_match: "没有符合搜索和筛选条件的镜像。",
    no_images: "所选地域中没有镜像。",
    stale: "显示的是上次成功获取的列表（已过期）。",
    source_error: "无法列出 {1} 的 {0}：",
    retry: "重试",
    advice: "处理建议：",
    col_name: "名称",
    col_id: "ID",
    col_region: "地域",
    col_progress: "进度",
    col_size: "大小",
    col_os: "操作系统",
    col_arch: "架构",
    col_boot: "启动模式",
    col_created: "创建时间",
    details: "详情",
    close: "关闭",
    disks: "磁盘",
    tags: "标签",
    task: "任务",
    no_task: "此镜像没有任务。",
    tasks_loading: "正在查询任务…",
    all_fields: "全部字段",
    jobs_title: "活动",
    jobs_empty: "当前没有进行中的工作。",
    job_rate: "{0} %/分钟",
    job_eta: "约剩 {0}",
    job_done: "已完成",
    job_failed: "失败",
    job_clear: "清除已结束",
    job_no_progress: "进行中（此接口不提供百分比）",
    sandbox_hover: "因为尚未配置账号，ImageDesk 运行内置沙箱：它在本机模拟 ECS、ENS、E-HPC Instant 和 OSS，可放心试用所有功能。设置 ALIBABA_CLOUD_ACCESS_KEY_ID 和 ALIBABA_CLOUD_ACCESS_KEY_SECRET 即可使用真实账号。",
    tl_seen: "发现：{0}，{1}%",
    tl_progress: "{0}%",
    tl_status: "变为{0}",
    tl_started: "已开始（{0}）",
    toast_ready: "{0} 已可用（{1}）",
    toast_failed: "{0} 失败（{1}）",
    toast_failed_advice: "在镜像详情中查看其任务；导入失败通常是因为 OSS 对象不是磁盘镜像，或格式、大小填写有误。",
    toast_action_failed: "{0} 失败",
    palette_title: "命令面板",
    palette_hint: "输入命令…",
    palette_none: "没有匹配的命令。",
    act_refresh: "刷新镜像列表",
    act_search: "搜索镜像",
    act_clear: "清除筛选",
    act_jobs: "显示或隐藏活动",
    act_close_details: "关闭详情",
    act_language: "切换语言为 {0}",
    act_demo_import: "导入示例镜像（沙箱）",
    act_sort: "按{0}排序",
    act_region: "显示或隐藏地域 {0}",
    act_status: "按状态筛选：{0}",
    act_product: "按产品筛选：{0}",
    act_owner: "按来源筛选：{0}",
    demo_import: "导入示例镜像",
    demo_started: "已开始导入 {0}（任务 {1}）",
    worker_failed: "无法启动后台工作线程：{0}",
    profiles_button: "配置管理",
    profiles_title: "配置管理",
    saved_profiles: "已保存的配置",
    no_saved_profiles: "还没有保存的配置。",
    secrets_in: "密钥保存在：{0}",
    keychain_missing: "没有可用的钥匙串（{0}）。现在保存的配置仅在本次会话的内存中保存密钥，不会写入磁盘。",
    new_profile: "新建配置",
    f_name: "配置名称",
    f_kind: "云",
    f_mode: "凭证模式",
    f_key_id: "AccessKey ID",
    f_secret: "AccessKey Secret",
    f_reveal: "显示密钥",
    f_token: "安全令牌",
    f_role_arn: "角色 ARN",
    f_session: "会话名称",
    f_duration: "会话时长（秒）",
    f_role_name: "ECS 角色名称",
    f_region: "默认地域",
    f_endpoint: "Endpoint（可选）",
    f_style: "请求方式",
    f_org: "组织 ID",
    f_rg: "资源组 ID",
    f_ca: "CA 证书（PEM 路径）",
    f_http: "允许明文 HTTP",
    kind_cloud: "阿里云",
    kind_apsara: "专有云 Apsara Stack",
    test_connection: "测试连接",
    testing: "测试中…",
    save_profile: "保存配置",
    fix_fields: "请先修正标红的 {0} 个字段。",
    profile_saved: "配置 {0} 已保存；密钥保存在 {1}",
    profile_save_failed: "配置未保存",
    clock_diff: "与服务器的时钟差：{0} 秒",
    import_title: "导入已有凭证",
    import_scan: "查找凭证",
    import_searched: "查找位置：{0}",
    import_none: "那里没有找到凭证。",
    import_selected: "导入所选（{0}）",
    import_cannot: "无法导入：{0}",
    import_hint: "密钥保存到钥匙串；不会复制到 ImageDesk 的文件中。",
    session_only: "仅限本次会话：没有写入磁盘",
    delete_profile: "删除 {0}",
    delete_profile_hint: "删除此配置，并从钥匙串中删除其密钥",
    profile_deleted: "配置 {0} 及其密钥已删除",
    audit_button: "审计日志",
    audit_filter: "筛选",
    audit_errors_only: "仅错误",
    audit_export_path: "导出到",
    audit_export_csv: "导出 CSV",
    audit_export_jsonl: "导出 JSON Lines",
    audit_exported: "已导出 {0} 条记录到 {1}",
    audit_empty: "尚无变更操作记录。",
    audit_unreadable: "跳过了 {0} 行无法读取的记录",
    audit_reload: "重新加载",
    audit_count: "{0} / {1} 条记录",
    audit_time: "时间",
    audit_action: "操作",
    audit_result: "结果",
    audit_request: "请求 ID",
    status_names: ["创建中", "等待中", "可用", "已弃用", "不可用", "失败", "未知"],
    owner_names: ["我的", "共享", "公共", "镜像市场"],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locale_picks_chinese_for_any_zh_locale_and_respects_precedence() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
        };
        assert_eq!(Lang::from_locale_vars(env(&[("LANG", "zh_CN.UTF-8")])), Lang::Zh);
        assert_eq!(Lang::from_locale_vars(env(&[("LANG", "zh_TW.UTF-8")])), Lang::Zh);
        assert_eq!(Lang::from_locale_vars(env(&[("LANG", "en_US.UTF-8")])), Lang::En);
        assert_eq!(Lang::from_locale_vars(env(&[])), Lang::En);
        assert_eq!(Lang::from_locale_vars(env(&[("LC_ALL", "C"), ("LANG", "zh_CN.UTF-8")])), Lang::En);
        assert_eq!(Lang::from_locale_vars(env(&[("LC_ALL", ""), ("LANG", "zh_CN.UTF-8")])), Lang::Zh);
    }

    #[test]
    fn fill_replaces_numbered_placeholders() {
        assert_eq!(fill("{0} of {1} images", &["3", "10"]), "3 of 10 images");
        assert_eq!(fill(ZH.count, &["3", "10"]), "3 / 10 个镜像");
    }

    #[test]
    fn every_placeholder_in_english_exists_in_chinese() {
        // Spot-check templates by filling them and seeing no placeholder left.
        for (en, zh) in
            [(EN.count, ZH.count), (EN.source_error, ZH.source_error), (EN.toast_ready, ZH.toast_ready)]
        {
            for text in [en, zh] {
                assert!(!fill(text, &["a", "b"]).contains('{'), "{text}");
            }
        }
    }
}
