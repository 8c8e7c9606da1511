//! ImageDesk entry point. Until the desktop UI lands this is a small command-line front end to
//! the protocol core and client.

use std::process::ExitCode;

use std::sync::Arc;

use imagedesk::client::{Client, ClientError, Profile, StaticCredentials};
use imagedesk::protocol::ops::ecs::{DescribeImages, DescribeRegions, ImageOwnerAlias, ImageStatus};
use imagedesk::protocol::sign::vectors;
use imagedesk::{Credential, Secret};

const USAGE: &str = "\
usage: imagedesk [COMMAND]

commands:
  (none)           what ImageDesk is, and a signing self-check
  vectors          recompute every published signing vector and compare
  regions          ECS DescribeRegions
  images REGION    every custom image in REGION (all statuses, all pages)
  help             this text

regions/images read credentials from ALIBABA_CLOUD_ACCESS_KEY_ID and
ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN for STS);
IMAGEDESK_ENDPOINT overrides the endpoint (http:// only for loopback).
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => {
            println!(
                "ImageDesk {} — administer custom images on Alibaba Cloud (ECS, ENS, E-HPC Instant, Apsara Stack).",
                env!("CARGO_PKG_VERSION")
            );
            println!(
                "Status: protocol core and client; the desktop UI and the local sandbox arrive in later releases.\n"
            );
            let checks = vectors::published();
            let passed = checks.iter().filter(|c| c.passes()).count();
            println!("Signing self-check: {passed}/{} published vectors reproduce.", checks.len());
            println!("\n{USAGE}");
            if passed == checks.len() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
        Some("vectors") => print_vectors(),
        Some("regions") => run_online(None),
        Some("images") => match args.get(1) {
            Some(region) => run_online(Some(region.clone())),
            None => {
                eprintln!("imagedesk images: name a region, e.g. `imagedesk images cn-hangzhou`");
                ExitCode::from(2)
            }
        },
        Some("help" | "-h" | "--help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("imagedesk: unknown command {other:?}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn print_vectors() -> ExitCode {
    let mut ok = true;
    for check in vectors::published() {
        let verdict = if check.passes() { "ok  " } else { "FAIL" };
        ok &= check.passes();
        println!(
            "{verdict} {:<3} {}\n     expected {}\n     computed {}",
            check.name, check.source, check.expected, check.computed
        );
    }
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// Credentials from the standard Alibaba Cloud environment variables.
fn credential_from_env() -> Result<Credential, String> {
    let id = std::env::var("ALIBABA_CLOUD_ACCESS_KEY_ID").unwrap_or_default();
    let secret = std::env::var("ALIBABA_CLOUD_ACCESS_KEY_SECRET").unwrap_or_default();
    if id.is_empty() || secret.is_empty() {
        return Err("set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET first".to_owned());
    }
    let mut credential = Credential::new(id, Secret::new(secret));
    if let Ok(token) = std::env::var("ALIBABA_CLOUD_SECURITY_TOKEN")
        && !token.is_empty()
    {
        credential = credential.with_security_token(token);
    }
    Ok(credential)
}

fn run_online(images_region: Option<String>) -> ExitCode {
    let credential = match credential_from_env() {
        Ok(c) => c,
        Err(message) => {
            eprintln!("imagedesk: {message}");
            return ExitCode::from(2);
        }
    };
    let mut profile = Profile::new("env", images_region.clone().unwrap_or_else(|| "cn-hangzhou".to_owned()));
    profile.endpoint = std::env::var("IMAGEDESK_ENDPOINT").ok().filter(|e| !e.is_empty());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("imagedesk-net")
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("imagedesk: cannot start the network runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        let client = Client::new(profile, Arc::new(StaticCredentials::new(credential)))?;
        match images_region {
            None => {
                let response = client.call(DescribeRegions::default()).await?;
                for region in response.regions {
                    println!("{:<24} {:<10} {}", region.region_id, region.status, region.local_name);
                }
            }
            Some(region) => {
                let request = DescribeImages {
                    region_id: region,
                    status: ImageStatus::all(),
                    image_owner_alias: Some(ImageOwnerAlias::SelfOwned),
                    ..Default::default()
                };
                let images = client.list_all(request).await?;
                for image in &images {
                    let progress = image.progress_percent().map(|p| format!("{p}%")).unwrap_or_default();
                    println!(
                        "{:<26} {:<14} {:>5} {}",
                        image.image_id, image.status, progress, image.image_name
                    );
                }
                println!("{} image(s)", images.len());
            }
        }
        Ok::<(), ClientError>(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("imagedesk: {error}");
            if let Some(api) = error.api() {
                let advice = api.advice();
                eprintln!("  what to do: {}", advice.en);
                eprintln!("  处理建议: {}", advice.zh);
            }
            ExitCode::FAILURE
        }
    }
}
