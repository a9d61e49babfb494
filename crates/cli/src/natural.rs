//! Natural order for names: runs of digits compare as numbers, so `m2` comes before `m10`.

use std::cmp::Ordering;

/// Compares `a` and `b` piece by piece: digit runs by value, other text as it is.
pub fn cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a, b);
    loop {
        match (a.is_empty(), b.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            (false, false) => {}
        }
        let (piece_a, rest_a) = split_piece(a);
        let (piece_b, rest_b) = split_piece(b);
        let order = match (is_number(piece_a), is_number(piece_b)) {
            (true, true) => {
                let (ta, tb) = (
                    piece_a.trim_start_matches('0'),
                    piece_b.trim_start_matches('0'),
                );
                ta.len()
                    .cmp(&tb.len())
                    .then_with(|| ta.cmp(tb))
                    .then_with(|| piece_a.len().cmp(&piece_b.len()))
            }
            _ => piece_a.cmp(piece_b),
        };
        if order != Ordering::Equal {
            return order;
        }
        (a, b) = (rest_a, rest_b);
    }
}

fn is_number(piece: &str) -> bool {
    piece.starts_with(|c: char| c.is_ascii_digit())
}

/// The first run of digits, or of anything else, and the rest.
fn split_piece(text: &str) -> (&str, &str) {
    let digits = text.starts_with(|c: char| c.is_ascii_digit());
    let end = text
        .find(|c: char| c.is_ascii_digit() != digits)
        .unwrap_or(text.len());
    text.split_at(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_inside_names_compare_by_value() {
        let mut names = vec!["m10", "m2", "m1", "a", "m2b", "m2a", "b1", "m9_x"];
        names.sort_by(|a, b| cmp(a, b));
        assert_eq!(names, ["a", "b1", "m1", "m2", "m2a", "m2b", "m9_x", "m10"]);
        // Leading zeros: the same value, the shorter first; never equal unless the same.
        assert_eq!(cmp("m2", "m02"), Ordering::Less);
        assert_eq!(cmp("m02", "m02"), Ordering::Equal);
    }
}
