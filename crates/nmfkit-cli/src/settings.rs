//! What the `nmfkit` command's own flags mean, resolved one step after
//! parsing: image shapes, rank lists, weighted data, the smooth estimator.

use crate::flags::{MaskFlags, MissingFlag, ModelKind, SimplexFlag, SmoothFlags};
use nmfkit::smooth::{Simplex, SmoothLoss, SmoothNmf};
use nmfkit::weights::{MaskSpec, Missing, Weighted};
use nmfkit::{Init, Loss, NmfError};
use nmfkit_io::flags::ModelFlags;
use nmfkit_io::formats::{read_matrix, Matrix};
use nmfkit_io::settings::seconds;
use nmfkit_io::settings::StopDefaults;
use nmfkit_io::Error;
use std::path::Path;

/// Parses "HxW" (e.g. 32x32).
pub fn parse_shape(s: &str) -> Result<(usize, usize), Error> {
    let bad = || Error::usage(format!("image shape '{s}' must look like HxW, e.g. 32x32"));
    let (h, w) = s.split_once(['x', 'X', '×']).ok_or_else(bad)?;
    let h: usize = h.trim().parse().map_err(|_| bad())?;
    let w: usize = w.trim().parse().map_err(|_| bad())?;
    if h == 0 || w == 0 {
        return Err(bad());
    }
    Ok((h, w))
}

/// Parses "2..10", "2-10", "2:10", "2,3,5" or "4".
pub fn parse_ranks(s: &str) -> Result<Vec<usize>, Error> {
    let bad = |why: &str| {
        Error::usage(format!(
            "--ranks '{s}': {why} (use a range such as 2..10, a list such as 2,3,5, or one rank)"
        ))
    };
    let num = |t: &str| -> Result<usize, Error> {
        let v: usize = t
            .trim()
            .parse()
            .map_err(|_| bad(&format!("'{}' is not a whole number", t.trim())))?;
        if v == 0 {
            return Err(bad("ranks start at 1"));
        }
        Ok(v)
    };
    let mut ranks = Vec::new();
    for part in s.split(',').filter(|p| !p.trim().is_empty()) {
        let range = ["..=", "..", ":", "-"]
            .iter()
            .find_map(|sep| part.split_once(sep));
        match range {
            Some((a, b)) => {
                let (a, b) = (num(a)?, num(b)?);
                if a > b {
                    return Err(bad("the range is empty"));
                }
                ranks.extend(a..=b);
            }
            None => ranks.push(num(part)?),
        }
    }
    ranks.sort_unstable();
    ranks.dedup();
    if ranks.is_empty() {
        return Err(bad("no rank given"));
    }
    if ranks.len() > 1000 {
        return Err(bad("more than 1000 ranks"));
    }
    Ok(ranks)
}

impl MaskFlags {
    pub fn active(&self) -> bool {
        self.mask.is_some() || self.missing.is_some() || self.missing_entries.is_some()
    }

    /// X with its weights. `transpose`: the data was transposed after
    /// reading; so are the mask files.
    pub fn weighted(
        &self,
        x: &Matrix,
        input: &Path,
        transpose: bool,
    ) -> Result<Weighted<f64>, Error> {
        let (n, m) = x.shape();
        let read = |path: &Path| -> Result<Matrix, Error> {
            let mut w = read_matrix(path)?;
            if transpose {
                w = w.transpose();
            }
            if w.shape() != (n, m) {
                let (a, b) = w.shape();
                return Err(Error::input(
                    path,
                    format!("the mask is {a}×{b} but the data is {n}×{m}"),
                ));
            }
            Ok(w)
        };
        let mask = self.mask.as_deref().map(read).transpose()?;
        let holes = self.missing_entries.as_deref().map(read).transpose()?;
        let spec = MaskSpec {
            mask: mask.as_ref().map(|m| m.input()),
            missing_entries: holes.as_ref().map(|m| m.input()),
            missing: match self.missing {
                None => Missing::None,
                Some(MissingFlag::Nan) => Missing::Nan,
                Some(MissingFlag::Unstored) => Missing::Unstored,
            },
        };
        Weighted::build(x.input(), &spec).map_err(|e| {
            let ctx = match &e {
                NmfError::InvalidParameter {
                    name: "missing", ..
                } => return Error::usage(format!("--missing: {e}")),
                NmfError::InvalidParameter { name: "mask", .. } => self.mask.as_deref(),
                _ => Some(input),
            };
            Error::nmf(ctx, e)
        })
    }

    /// The file to blame for an error the core raised about the weights.
    pub fn context<'a>(&'a self, e: &NmfError, input: &'a Path) -> &'a Path {
        let about_mask = matches!(
            e,
            NmfError::InvalidParameter { name: "mask", .. }
                | NmfError::Negative { what: "mask", .. }
                | NmfError::NonFinite { what: "mask", .. }
        );
        match (
            about_mask,
            self.mask.as_deref().or(self.missing_entries.as_deref()),
        ) {
            (true, Some(p)) => p,
            _ => input,
        }
    }
}

impl SmoothFlags {
    /// Whether the smooth model is asked for; its flags without it are an error.
    pub fn is_smooth(&self) -> Result<bool, Error> {
        if self.kind == ModelKind::Smooth {
            return Ok(true);
        }
        let given = [
            ("--dictionary", self.dictionary.is_some()),
            ("--image-shape", self.image_shape.is_some()),
            ("--lambda-l", self.lambda_l != 0.0),
            ("--mu", self.mu.is_some()),
            ("--simplex", self.simplex != SimplexFlag::None),
            ("--normalize", self.normalize),
            ("--fixed-w", self.fixed_w.is_some()),
            ("--fixed-h", self.fixed_h.is_some()),
            ("--truth-d", self.truth_d.is_some()),
            ("--truth-h", self.truth_h.is_some()),
        ];
        match given.iter().find(|g| g.1) {
            Some((flag, _)) => Err(Error::usage(format!(
                "{flag} belongs to the smooth model: add --model smooth"
            ))),
            None => Ok(false),
        }
    }

    /// The smooth estimator; the standard model's options that do not
    /// apply to it are refused by name.
    pub fn estimator(
        &self,
        rank: usize,
        model: &ModelFlags,
        init: Init,
    ) -> Result<SmoothNmf, Error> {
        let loss = match model.loss.as_ref().map(|_| model.loss()).transpose()? {
            None | Some(Loss::KullbackLeibler) => SmoothLoss::Kl,
            Some(Loss::Frobenius) => SmoothLoss::L2,
            Some(_) => {
                return Err(Error::usage(format!(
                    "the smooth model's loss is kl (Poisson counts) or frobenius (ESPM's l2); --loss {} does not apply",
                    model.loss.as_deref().unwrap_or_default()
                )))
            }
        };
        if model.solver != nmfkit_io::flags::SolverFlag::Auto {
            return Err(Error::usage(format!(
                "the smooth model has its own solver (multiplicative MM updates); --solver {:?} does not apply",
                model.solver
            )));
        }
        if model.alpha_w != 0.0 || model.alpha_h.is_some() || model.l1_ratio != 0.0 {
            return Err(Error::usage(
                "the smooth model regularizes with --lambda-l and --mu, not --alpha-w/--alpha-h/--l1-ratio",
            ));
        }
        if model.extrapolate == nmfkit_io::flags::Switch::On {
            return Err(Error::usage(
                "--extrapolate applies to hals with the Frobenius loss, not to the smooth model",
            ));
        }
        let mu = match &self.mu {
            None => Vec::new(),
            Some(text) => text
                .split(',')
                .map(|v| {
                    v.trim().parse::<f64>().map_err(|_| {
                        Error::usage(format!("--mu '{text}': '{}' is not a number", v.trim()))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        let mut est = SmoothNmf::new(rank)
            .loss(loss)
            .lambda_l(self.lambda_l)
            .mu(mu)
            .epsilon_reg(self.epsilon_reg)
            .simplex(match self.simplex {
                SimplexFlag::None => Simplex::None,
                SimplexFlag::H => Simplex::H,
                SimplexFlag::W => Simplex::W,
            })
            .normalize(self.normalize)
            .max_iter(model.max_iter(StopDefaults::CLASSIC))
            .tol(model.tol(StopDefaults::CLASSIC))
            .eval_every(model.eval_every.unwrap_or(10))
            .init(init)
            .seed(model.seed)
            .threads(model.threads)
            .diagnostics(model.diagnostics);
        est.factor_tol = model.factor_tol;
        if let Some(shape) = &self.image_shape {
            let (h, w) = parse_shape(shape)?;
            est = est.image_shape(h, w);
        }
        if let Some(t) = model.time_limit {
            est.time_limit = Some(seconds("--time-limit", t)?);
        }
        Ok(est)
    }
}
