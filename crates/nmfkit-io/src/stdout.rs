//! Results on stdout that end quietly on a closed pipe (`| head`): the
//! program exits 0 at the first failed write instead of panicking. Lines on
//! stderr go through [`crate::note!`].

use std::io::Write;

/// Prints a line on stdout; a closed pipe ends the program quietly.
pub fn print_line(text: &str) {
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{text}").and_then(|_| out.flush()).is_err() {
        std::process::exit(0);
    }
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json(v: &impl serde::Serialize) {
    print_line(&serde_json::to_string_pretty(v).unwrap_or_default());
}

/// A number as people write it: 4 significant digits, plain between 0.001
/// and 100000 (integers without decimals), `1.23e-5` style outside.
pub fn format_number(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v == v.round() && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    let a = v.abs();
    if (1e-3..1e5).contains(&a) {
        let decimals = (3 - a.log10().floor() as i32).max(0) as usize;
        let s = format!("{v:.decimals$}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    } else {
        let s = format!("{v:.3e}");
        // 1.500e-5 → 1.5e-5
        match s.split_once('e') {
            Some((m, e)) => {
                let m = m.trim_end_matches('0').trim_end_matches('.');
                format!("{m}e{e}")
            }
            None => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::format_number as f;

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(f(10.0), "10");
        assert_eq!(f(50.0), "50");
        assert_eq!(f(100.0), "100");
        assert_eq!(f(0.5), "0.5");
        assert_eq!(f(1.22688), "1.227");
        assert_eq!(f(0.0123456), "0.01235");
        assert_eq!(f(12345.678), "12346");
        assert_eq!(f(1.5e-5), "1.5e-5");
        assert_eq!(f(2.5e7), "25000000");
        assert_eq!(f(2.55e17), "2.55e17");
        assert_eq!(f(-0.25), "-0.25");
    }
}
