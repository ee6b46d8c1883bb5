//! `tokenpace models`: what the model cache holds, and fetching into it.

use crate::cli::ModelsArgs;
use crate::output::models::ModelsOutput;
use crate::Status;
use std::io::Write;

use tokenpace_models::{cache_dir, cached_models};
use tokenpace_present::Lang;

/// Runs `tokenpace models`.
pub fn run(args: ModelsArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let cache = cache_dir(args.cache_dir.as_deref());
    if let Some(package) = &args.fetch {
        for f in crate::progress::fetch(package, &cache, lang)? {
            crate::progress::note(format_args!(
                "{}: {}",
                lang.pick("cached", "已缓存"),
                f.display()
            ));
        }
    }
    let models = cached_models(&cache);
    let result = ModelsOutput::new(cache, models);
    let text = tokenpace_present::export(&result, args.output.format, lang)?;
    out.write_all(text.as_bytes())?;
    Ok(Status::Ok)
}
