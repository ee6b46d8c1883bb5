//! The process-wide llama.cpp backend, started once, and its log: llama.cpp
//! writes a great deal to stderr; we keep only its recent warnings and
//! errors, to explain a failed load.

use llama_cpp_2::llama_backend::LlamaBackend;
use std::collections::VecDeque;
use std::ffi::{c_char, c_void, CStr};
use std::sync::{Mutex, OnceLock};

static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
static RECENT: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new());
const KEEP: usize = 16;

/// The backend, started on first use. Set `TOKENPACE_LLAMA_LOG=1` to see
/// llama.cpp's own log on stderr.
pub fn backend() -> Result<&'static LlamaBackend, String> {
    BACKEND
        .get_or_init(|| {
            let backend = LlamaBackend::init().map_err(|e| e.to_string())?;
            if std::env::var_os("TOKENPACE_LLAMA_LOG").is_none_or(|v| v != "1") {
                // SAFETY: the callback only reads the C string it is given.
                unsafe { llama_cpp_sys_2::llama_log_set(Some(keep_log), std::ptr::null_mut()) };
            }
            Ok(backend)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// ggml's levels: 3 warn, 4 error, 5 continues the previous line.
unsafe extern "C" fn keep_log(level: u32, text: *const c_char, _user: *mut c_void) {
    if text.is_null() || !(3..=5).contains(&level) {
        return;
    }
    // SAFETY: llama.cpp passes a NUL-terminated string.
    let line = unsafe { CStr::from_ptr(text) }.to_string_lossy();
    let Ok(mut recent) = RECENT.lock() else {
        return;
    };
    if level == 5 {
        if let Some(last) = recent.back_mut() {
            last.push_str(&line);
        }
        return;
    }
    if recent.len() == KEEP {
        recent.pop_front();
    }
    recent.push_back(line.trim_end().to_owned());
}

/// Forgets the kept log lines.
pub fn clear_log() {
    if let Ok(mut recent) = RECENT.lock() {
        recent.clear();
    }
}

/// The error lines kept since [`clear_log`], joined.
pub fn recent_errors() -> String {
    RECENT
        .lock()
        .map(|r| {
            r.iter()
                .map(|l| l.trim())
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}
