//! The allocator: mimalloc for the many small allocations replies are
//! built from, the system allocator for big buffers.
//!
//! mimalloc keeps freed memory for reuse, which is what makes small
//! allocations fast; but one hostile 100 MB message would then leave the
//! server at 200 MB for good.  Blocks of 1 MiB and more go to the system
//! allocator instead, which maps them on their own and unmaps them when
//! freed (glibc does so for blocks this big), so their memory goes back to
//! the system with the message.  Nothing on the request path allocates
//! that much.

use std::alloc::{GlobalAlloc, Layout, System};

/// From this size on, a block comes from [`System`].
const BIG: usize = 1 << 20;

/// Makes the system allocator map every big block on its own: glibc's
/// threshold otherwise rises to the size of the last block freed (up to
/// 32 MiB), and blocks under it come from arenas that keep their memory.
pub fn init() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets a tunable; called before any thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, BIG as libc::c_int);
    }
}

/// mimalloc for small blocks, [`System`] for big ones.
pub struct Split;

fn big(layout: &Layout) -> bool {
    layout.size() >= BIG
}

// SAFETY: every block is freed (and reallocated) by the allocator that
// made it: the choice depends only on the size, and `realloc` moves a
// block whose new size changes the choice.
unsafe impl GlobalAlloc for Split {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if big(&layout) {
            System.alloc(layout)
        } else {
            mimalloc::MiMalloc.alloc(layout)
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if big(&layout) {
            System.alloc_zeroed(layout)
        } else {
            mimalloc::MiMalloc.alloc_zeroed(layout)
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if big(&layout) {
            System.dealloc(ptr, layout)
        } else {
            mimalloc::MiMalloc.dealloc(ptr, layout)
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let was_big = big(&layout);
        if was_big == (new_size >= BIG) {
            return if was_big {
                System.realloc(ptr, layout, new_size)
            } else {
                mimalloc::MiMalloc.realloc(ptr, layout, new_size)
            };
        }
        // SAFETY: the caller guarantees `new_size` with `layout`'s
        // alignment is a valid layout.
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        let new = self.alloc(new_layout);
        if !new.is_null() {
            std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
            self.dealloc(ptr, layout);
        }
        new
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn blocks_of_every_size_move_between_the_allocators() {
        // (start, grown to) around the 1 MiB boundary, both ways.
        for (a, b) in [
            (16, 64),
            (1000, 2 << 20),
            (3 << 20, 100),
            (1 << 20, (1 << 20) - 1),
        ] {
            let mut v: Vec<u8> = (0..a).map(|i| i as u8).collect();
            v.resize(b, 7);
            v.shrink_to_fit();
            let keep = a.min(b);
            assert!(v[..keep].iter().enumerate().all(|(i, x)| *x == i as u8));
        }
    }
}
