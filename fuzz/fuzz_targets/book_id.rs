//! Any text as a book ID and locality: parsed IDs must render to names that
//! stay inside the archive and parse back to themselves.
#![no_main]

use std::path::Component;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (id, locality) = text.split_once('\n').unwrap_or((text, "Đông Hà"));
    let naming = sohoa::config::Config::default().naming();
    if let Ok(book) = naming.parse_book(id, locality) {
        let dir = naming.book_dir(&book);
        assert!(dir.components().all(|c| matches!(c, Component::Normal(_))), "{dir:?} escapes the archive");
        let page = naming.page_file(&book, 1, "jpg");
        assert!(!page.contains('/') && !page.contains('\\'), "{page}");
        assert_eq!(naming.parse_book(&naming.render_book(&book), &book.locality).ok(), Some(book));
    }
});
