//! A global allocator that counts the bytes the program holds, over the system allocator: what
//! tells a leak (the live heap grows) from an allocator keeping freed memory (the resident set
//! grows while the live heap does not). The broker's soak builds the broker with it
//! (`careid-broker`'s `count-heap` feature) and reads the count from `/metrics`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes allocated and not yet freed.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting.
#[derive(Debug)]
pub struct CountingAllocator;

// SAFETY: every call is passed to the system allocator unchanged; only a counter is kept beside.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is the system allocator's.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: `pointer` came from this allocator, that is from the system's, with `layout`.
        unsafe { System.dealloc(pointer, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`, and `new_size` is the caller's to keep valid.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            LIVE.fetch_add(new_size, Ordering::Relaxed);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        moved
    }
}

/// The bytes the program holds now (with [`CountingAllocator`] as its global allocator).
pub fn live_bytes() -> usize {
    LIVE.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_allocated_is_counted_until_freed() {
        let layout = Layout::from_size_align(4096, 8).unwrap();
        let before = live_bytes();
        // SAFETY: a non-zero layout; freed below with the same layout.
        let pointer = unsafe { CountingAllocator.alloc(layout) };
        assert!(!pointer.is_null());
        assert_eq!(live_bytes() - before, 4096);
        // SAFETY: as allocated above, grown then freed with its new size.
        let grown = unsafe { CountingAllocator.realloc(pointer, layout, 8192) };
        assert_eq!(live_bytes() - before, 8192);
        unsafe { CountingAllocator.dealloc(grown, Layout::from_size_align(8192, 8).unwrap()) };
        assert_eq!(live_bytes(), before);
    }
}
