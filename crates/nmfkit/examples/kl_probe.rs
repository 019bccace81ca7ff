use nmfkit::*;
use std::time::Instant;
fn main() {
    let p = synth::low_rank::<f64>(2000, 1000, 20, 0.05, 1);
    let d = DenseData::new(p.x.as_ref());
    let wt = p.w.transpose();
    let wh = inverse_transform(&p.w, &p.h);
    let eps = f32::EPSILON as f64;
    for _ in 0..3 {
        let t = Instant::now();
        let s: f64 =
            p.x.data
                .iter()
                .zip(&wh.data)
                .map(|(&x, &w)| {
                    if x > eps {
                        x * (x / w.max(eps)).ln() - x
                    } else {
                        0.0
                    }
                })
                .sum();
        println!(
            "seq libm fold: {:.2} ms ({s})",
            t.elapsed().as_secs_f64() * 1e3
        );
        let t = Instant::now();
        let mut s = 0.0;
        for j in 0..1000 {
            for i in 0..2000 {
                let x = p.x.data[i + j * 2000];
                let w = wh.data[i + j * 2000];
                if x > eps {
                    s += x * (x / w.max(eps)).ln() - x
                }
            }
        }
        println!(
            "seq loop fold: {:.2} ms ({s})",
            t.elapsed().as_secs_f64() * 1e3
        );
        println!("loss: {}", beta_divergence(&d, &wt, &p.h, 1.0));
    }
    for th in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(th)
            .build()
            .unwrap();
        pool.install(|| {
            for _ in 0..2 {
                let t = Instant::now();
                for _ in 0..10 {
                    let _ = beta_divergence(&d, &wt, &p.h, 1.0);
                }
                let e = t.elapsed().as_secs_f64() * 100.0;
                let t = Instant::now();
                for _ in 0..10 {
                    let _ = beta_divergence(&d, &wt, &p.h, 2.0);
                }
                let f = t.elapsed().as_secs_f64() * 100.0;
                let mut out = Mat::zeros(20, 1000);
                let t = Instant::now();
                for _ in 0..10 {
                    d.cross_weighted(Side::H, &wt, &p.h, |x, wh| x / wh, &mut out);
                }
                let a = t.elapsed().as_secs_f64() * 100.0;
                println!(
                    "threads {th}: KL loss {e:.2} ms, fro loss {f:.2} ms, cross_weighted {a:.2}"
                );
            }
        });
    }
}
#[allow(dead_code)]
fn _unused() {}
