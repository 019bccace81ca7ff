//! What the shared flags mean: their resolution into the core's settings,
//! one step after parsing and separate from it.

use crate::error::Error;
use crate::flags::{BalanceFlag, InitFlag, ModelFlags, SolverFlag, StartFlags, Switch};
use crate::formats::read_dense;
use nmfkit::{Balance, Init, Loss, Mat, Nmf, Regularization, SolverKind};
use std::time::Duration;

impl From<SolverFlag> for SolverKind {
    fn from(s: SolverFlag) -> SolverKind {
        match s {
            SolverFlag::Mu => SolverKind::Mu,
            SolverFlag::Cd => SolverKind::Cd,
            SolverFlag::Hals => SolverKind::Hals,
            SolverFlag::Anls => SolverKind::AnlsBpp,
            SolverFlag::Ccd => SolverKind::KlCd,
            SolverFlag::Greedycd => SolverKind::GreedyCd,
            SolverFlag::Pgrad => SolverKind::Pgrad,
            SolverFlag::Spa => SolverKind::Spa,
            SolverFlag::Auto => SolverKind::Auto,
        }
    }
}

/// A positive, finite number of seconds.
pub fn seconds(flag: &str, t: f64) -> Result<Duration, Error> {
    if t > 0.0 && t.is_finite() {
        Ok(Duration::from_secs_f64(t))
    } else {
        Err(Error::usage(format!(
            "{flag} must be a positive number of seconds, got {t}"
        )))
    }
}

/// What --max-iter and --tol mean when not given, by what is fitted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StopDefaults {
    pub max_iter: usize,
    pub tol: f64,
}

impl StopDefaults {
    /// A standard fit: its objective rule stops it (a window of 10
    /// iterations; at 1e-4 it stopped on plateaus 0.45-0.65 % above the
    /// best loss on the ALL and faces sets, at 1e-5 within 0.06 % on every
    /// real set), and --max-iter is a safeguard.
    pub const FIT: StopDefaults = StopDefaults {
        max_iter: 1000,
        tol: 1e-5,
    };
    /// scikit-learn's and ESPM's defaults, for the minibatch and smooth
    /// models whose rules are theirs, and for rank surveys (many short
    /// runs).
    pub const CLASSIC: StopDefaults = StopDefaults {
        max_iter: 200,
        tol: 1e-4,
    };
}

impl ModelFlags {
    /// --max-iter, or the default for what is fitted.
    pub fn max_iter(&self, d: StopDefaults) -> usize {
        self.max_iter.unwrap_or(d.max_iter)
    }

    /// --tol, or the default for what is fitted.
    pub fn tol(&self, d: StopDefaults) -> f64 {
        self.tol.unwrap_or(d.tol)
    }

    /// The loss: Frobenius unless --loss says otherwise.
    pub fn loss(&self) -> Result<Loss, Error> {
        Loss::parse(self.loss.as_deref().unwrap_or("frobenius"))
            .map_err(|e| Error::usage(e.to_string()))
    }

    /// The estimator at rank `rank` with these options (`stop`: the
    /// defaults of --max-iter and --tol).
    pub fn estimator(&self, rank: usize, stop: StopDefaults) -> Result<Nmf, Error> {
        let loss = self.loss()?;
        let solver: SolverKind = self.solver.into();
        let extrapolate = match (self.extrapolate, solver) {
            (Switch::Auto, SolverKind::Auto) => false,
            (Switch::Auto, _) => solver == SolverKind::Hals && loss == Loss::Frobenius,
            (_, SolverKind::Auto) => return Err(Error::usage(
                "--solver auto decides extrapolation itself; name a solver to set --extrapolate",
            )),
            (Switch::On, _) => true,
            (Switch::Off, _) => false,
        };
        let mut est = Nmf::new(rank)
            .loss(loss)
            .solver(solver)
            .seed(self.seed)
            .max_iter(self.max_iter(stop))
            .tol(self.tol(stop))
            .threads(self.threads)
            .extrapolate(extrapolate)
            .balance(match self.balance {
                BalanceFlag::Auto => Balance::Auto,
                BalanceFlag::Every => Balance::Every,
                BalanceFlag::End => Balance::End,
                BalanceFlag::Off => Balance::Off,
            })
            .regularization(Regularization {
                alpha_w: self.alpha_w,
                alpha_h: self.alpha_h,
                l1_ratio: self.l1_ratio,
            });
        est.eval_every = self.eval_every;
        est.diagnostics = self.diagnostics;
        est.factor_tol = self.factor_tol;
        if let Some(t) = self.time_limit {
            est.time_limit = Some(seconds("--time-limit", t)?);
        }
        // The core's own checks, reported as usage errors.
        est.validate().map_err(|e| Error::usage(e.to_string()))?;
        Ok(est)
    }
}

/// How the factors start, resolved.
pub struct Start {
    /// The initialization when no factors are given.
    pub init: Init,
    /// W0 and H0 from --w0/--h0 (with --init custom).
    pub custom: Option<(Mat<f64>, Mat<f64>)>,
}

impl StartFlags {
    pub fn resolve(&self) -> Result<Start, Error> {
        let init = match self.init {
            InitFlag::Auto | InitFlag::Custom => Init::Auto,
            InitFlag::Random => Init::Random,
            InitFlag::Nndsvd => Init::Nndsvd,
            InitFlag::Nndsvda => Init::Nndsvda,
            InitFlag::Nndsvdar => Init::Nndsvdar,
            InitFlag::Spa => Init::Spa,
        };
        let custom = match (self.init, &self.w0, &self.h0) {
            (InitFlag::Custom, Some(w), Some(h)) => Some((read_dense(w)?, read_dense(h)?)),
            (InitFlag::Custom, _, _) => {
                return Err(Error::usage("--init custom needs both --w0 and --h0"))
            }
            (_, None, None) => None,
            _ => return Err(Error::usage("--w0/--h0 are only used with --init custom")),
        };
        Ok(Start { init, custom })
    }
}
