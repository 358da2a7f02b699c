//! mimalloc as the binaries' allocator. The request path allocates many small, short-lived things
//! (headers, spans, protobuf messages); glibc's malloc spent about a fifth of the gateway's CPU on
//! them, mimalloc much less (docs/benchmarks.md).
//!
//! One setting differs from mimalloc's default: its memory arenas are committed as they are used,
//! not up front. Up front, every service started at 23 to 29 MiB resident instead of about 15.

use std::{
    alloc::{GlobalAlloc, Layout},
    ffi::{c_int, c_long},
    sync::Once,
};

unsafe extern "C" {
    // mimalloc's C API (linked in by the mimalloc crate), not bound by its Rust crate for v3.
    fn mi_option_set(option: c_int, value: c_long);
}

/// `mi_option_arena_eager_commit` in mimalloc.h (v2 and v3 alike).
const MI_OPTION_ARENA_EAGER_COMMIT: c_int = 4;

static TUNED: Once = Once::new();

/// Applies the setting before the first allocation (a `Once` check per allocation: one atomic load).
fn tuned() {
    TUNED.call_once(|| {
        // SAFETY: sets a plain option; mimalloc reads it when it reserves its first arena.
        unsafe { mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0) }
    });
}

/// mimalloc with lazily committed arenas.
pub struct Allocator;

// SAFETY: every call goes to mimalloc's own `GlobalAlloc`, unchanged.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        tuned();
        unsafe { mimalloc::MiMalloc.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        tuned();
        unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        tuned();
        unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocates_zeroes_grows_and_frees_through_mimalloc() {
        let layout = Layout::from_size_align(64, 16).unwrap();
        unsafe {
            let p = Allocator.alloc_zeroed(layout);
            assert!(!p.is_null() && (p as usize).is_multiple_of(16));
            assert!(std::slice::from_raw_parts(p, 64).iter().all(|b| *b == 0));
            p.write(7);
            let q = Allocator.realloc(p, layout, 4096);
            assert_eq!(q.read(), 7, "realloc keeps the contents");
            Allocator.dealloc(q, Layout::from_size_align(4096, 16).unwrap());
        }
    }
}
