//! The site's static files, and how long browsers may keep them.
//!
//! `cargo leptos build` names the script, the wasm and the stylesheet by a
//! hash of their content (`hash-files` in `Cargo.toml`) and writes the
//! hashes to `hash.txt` in the site folder. A name then always means the
//! same bytes, so `/pkg/` files are sent with `Cache-Control: public,
//! max-age=31536000, immutable`: a phone fetches them once per release. An
//! upgrade brings new names; an old name is a 404, never another version's
//! file. A release build also leaves `.br` and `.gz` copies beside each
//! file (`--precompress`), which are sent as they are to a browser that
//! takes them; anything else is compressed as it goes out (see
//! [`crate::server::router`]).
//!
//! Everything else in the site folder (icons, the manifest, the service
//! worker) keeps its name across releases and is sent with `no-cache`: the
//! browser keeps it but asks each time whether it changed.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use axum::{
    extract::Request,
    http::{header, HeaderValue, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use tower_http::services::ServeDir;

use crate::app::OUTPUT_NAME;

/// `Cache-Control` of a file whose name is its content's hash.
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
/// `Cache-Control` of everything that keeps its name across releases.
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

/// The file names of the browser bundle, as the build made them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bundle {
    /// The hash file, when the build hashed the names (else the plain
    /// names `giftlist.js`, `.wasm`, `.css` are used).
    pub hash_file: Option<PathBuf>,
    /// What tells this build's files from another's: the script's hash
    /// (empty without hashing).
    pub release: String,
    pub js: String,
    pub wasm: String,
    pub css: String,
    /// The split build's loader script, which the main script imports and
    /// which fetches a lazily loaded page's wasm chunk (see `app`).
    pub split: String,
    /// The split build's map from lazy functions to their chunks, which
    /// Leptos reads to preload the chunks a server-rendered page needs.
    pub manifest: String,
}

/// The split loader's name in a build without hashing (cargo-leptos's).
const PLAIN_SPLIT: &str = "__wasm_split.______________________.js";
/// The split manifest's name in a build without hashing.
const PLAIN_MANIFEST: &str = "__wasm_split_manifest.json";

impl Bundle {
    /// The plain names, for a build without hashing.
    pub fn plain() -> Bundle {
        Bundle {
            hash_file: None,
            release: String::new(),
            js: format!("{OUTPUT_NAME}.js"),
            wasm: format!("{OUTPUT_NAME}.wasm"),
            css: format!("{OUTPUT_NAME}.css"),
            split: PLAIN_SPLIT.to_owned(),
            manifest: PLAIN_MANIFEST.to_owned(),
        }
    }

    /// Reads `hash.txt` in `site_root` if the build wrote one.
    ///
    /// Parsed here rather than by Leptos alone: the service worker and
    /// `check-config` need the names too, and a hash file that names
    /// missing files must be a clear problem at start, not a page without
    /// script. A build without `--split` is refused the same way: its main
    /// script would import a loader that does not exist, and no page would
    /// come alive.
    pub fn read(site_root: &Path) -> Result<Bundle, String> {
        // Absolute: Leptos reads it relative to the executable's folder.
        let hash_file = std::path::absolute(site_root.join("hash.txt"))
            .map_err(|err| format!("{}: {err}", site_root.display()))?;
        let text = match std::fs::read_to_string(&hash_file) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Bundle::plain()),
            Err(err) => return Err(format!("{}: {err}", hash_file.display())),
        };
        let hash_of = |kind: &str| {
            text.lines()
                .filter_map(|line| line.split_once(':'))
                .find(|(name, _)| name.trim() == kind)
                .map(|(_, hash)| hash.trim())
                .filter(|hash| {
                    !hash.is_empty()
                        && hash
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                })
                .ok_or_else(|| format!("{} has no {kind} hash", hash_file.display()))
        };
        let (js, wasm, css) = (hash_of("js")?, hash_of("wasm")?, hash_of("css")?);
        let split_hint = |err: String| format!("{err} (build with `cargo leptos build --split`)");
        let split = hash_of("split").map_err(split_hint)?;
        let manifest = hash_of("manifest").map_err(split_hint)?;
        Ok(Bundle {
            release: js.to_owned(),
            js: format!("{OUTPUT_NAME}.{js}.js"),
            wasm: format!("{OUTPUT_NAME}.{wasm}.wasm"),
            css: format!("{OUTPUT_NAME}.{css}.css"),
            split: format!("__wasm_split.{split}.js"),
            manifest: format!("__wasm_split_manifest.{manifest}.json"),
            hash_file: Some(hash_file),
        })
    }

    /// The bundle's files under `site_root/pkg` that are not there.
    pub fn missing(&self, site_root: &Path) -> Vec<String> {
        [&self.js, &self.wasm, &self.css, &self.split, &self.manifest]
            .into_iter()
            .map(|name| format!("pkg/{name}"))
            .filter(|file| !site_root.join(file).is_file())
            .collect()
    }
}

/// The routes for the site's files that are not pages: `/pkg/*` and the
/// service worker. The rest of the site folder is served by the pages'
/// fallback (which renders the 404 page for anything missing).
pub fn routes<S: Clone + Send + Sync + 'static>(site_root: &Path, bundle: &Bundle) -> Router<S> {
    let pkg = ServeDir::new(site_root.join("pkg"))
        .precompressed_br()
        .precompressed_gzip();
    let pkg_cache = if bundle.hash_file.is_some() {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    let worker = Arc::new(service_worker(site_root, bundle));
    Router::new()
        .nest_service("/pkg", pkg)
        .layer(middleware::from_fn(move |request: Request, next: Next| {
            cache_for(request, next, pkg_cache.clone())
        }))
        .route(
            "/sw.js",
            get(move || {
                let worker = worker.clone();
                async move {
                    match worker.as_deref() {
                        Some(script) => (
                            [
                                (
                                    header::CONTENT_TYPE,
                                    HeaderValue::from_static("text/javascript"),
                                ),
                                (header::CACHE_CONTROL, REVALIDATE),
                            ],
                            script.to_owned(),
                        )
                            .into_response(),
                        None => StatusCode::NOT_FOUND.into_response(),
                    }
                }
            }),
        )
}

/// Sets `Cache-Control` on what was found (a 404 must not be kept: during
/// an upgrade the name may exist on the next request's instance).
async fn cache_for(request: Request, next: Next, value: HeaderValue) -> Response {
    let mut response = next.run(request).await;
    let found = response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED;
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        if found {
            value
        } else {
            HeaderValue::from_static("no-store")
        },
    );
    response
}

/// The site's `sw.js` with the bundle's real names in its shell list, and
/// its cache version tied to them: a new release changes the worker's
/// bytes, so browsers install it, and it drops the old release's files.
fn service_worker(site_root: &Path, bundle: &Bundle) -> Option<String> {
    let script = std::fs::read_to_string(site_root.join("sw.js")).ok()?;
    Some(
        script
            .replace(
                &format!("\"/pkg/{OUTPUT_NAME}.js\""),
                &format!("\"/pkg/{}\"", bundle.js),
            )
            .replace(
                &format!("\"/pkg/{OUTPUT_NAME}.wasm\""),
                &format!("\"/pkg/{}\"", bundle.wasm),
            )
            .replace(
                &format!("\"/pkg/{OUTPUT_NAME}.css\""),
                &format!("\"/pkg/{}\"", bundle.css),
            )
            .replace(
                &format!("\"/pkg/{PLAIN_SPLIT}\""),
                &format!("\"/pkg/{}\"", bundle.split),
            )
            .replacen(
                "const RELEASE = \"\";",
                &format!("const RELEASE = \"{}\";", bundle.release),
                1,
            ),
    )
}

/// `no-cache` on the site's other files (and pages) that say nothing of
/// their own: they keep their names across releases.
pub async fn revalidate_by_default(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if !response.headers().contains_key(header::CACHE_CONTROL) {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, REVALIDATE);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_hash_file_the_plain_names() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = Bundle::read(dir.path()).unwrap();
        assert_eq!(bundle.hash_file, None);
        assert_eq!(bundle.wasm, "giftlist.wasm");
        assert_eq!(bundle.missing(dir.path()).len(), 5);
    }

    #[test]
    fn the_hash_file_names_the_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("hash.txt"),
            "js: AbC-1_2\nwasm: Wx9\ncss: Css0\nmanifest: M4\nsplit: S5\n",
        )
        .unwrap();
        let bundle = Bundle::read(dir.path()).unwrap();
        assert_eq!(bundle.js, "giftlist.AbC-1_2.js");
        assert_eq!(bundle.wasm, "giftlist.Wx9.wasm");
        assert_eq!(bundle.css, "giftlist.Css0.css");
        assert_eq!(bundle.split, "__wasm_split.S5.js");
        assert_eq!(bundle.manifest, "__wasm_split_manifest.M4.json");
        std::fs::write(
            dir.path().join("hash.txt"),
            "js: ../x\nwasm: W\ncss: C\nmanifest: M\nsplit: S\n",
        )
        .unwrap();
        assert!(Bundle::read(dir.path()).unwrap_err().contains("no js hash"));
        // A build without `--split`: refused at start, with the way out.
        std::fs::write(dir.path().join("hash.txt"), "js: J\nwasm: W\ncss: C\n").unwrap();
        let err = Bundle::read(dir.path()).unwrap_err();
        assert!(
            err.contains("no split hash") && err.contains("--split"),
            "{err}"
        );
    }

    #[test]
    fn the_worker_learns_the_names_and_the_release() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("hash.txt"),
            "js: J1\nwasm: W1\ncss: C1\nmanifest: M1\nsplit: S1\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("sw.js"),
            "const RELEASE = \"\";\nconst SHELL = [\"/pkg/giftlist.js\", \"/pkg/giftlist.wasm\", \"/pkg/giftlist.css\", \"/pkg/__wasm_split.______________________.js\"];\n",
        )
        .unwrap();
        let bundle = Bundle::read(dir.path()).unwrap();
        let worker = service_worker(dir.path(), &bundle).unwrap();
        assert_eq!(
            worker,
            "const RELEASE = \"J1\";\nconst SHELL = [\"/pkg/giftlist.J1.js\", \"/pkg/giftlist.W1.wasm\", \"/pkg/giftlist.C1.css\", \"/pkg/__wasm_split.S1.js\"];\n"
        );
    }
}
