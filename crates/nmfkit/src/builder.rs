//! The builder-style setters of the option structs ([`crate::Nmf`],
//! [`crate::smooth::SmoothNmf`]).

/// `fn name(self, v) -> Self` setting `self.name = v`.
macro_rules! setter {
    ($name:ident: $t:ty) => {
        pub fn $name(mut self, v: $t) -> Self {
            self.$name = v;
            self
        }
    };
}

/// `fn name(self, v) -> Self` setting the optional `self.name = Some(v)`.
macro_rules! setter_some {
    ($name:ident: $t:ty) => {
        pub fn $name(mut self, v: $t) -> Self {
            self.$name = Some(v);
            self
        }
    };
}

pub(crate) use {setter, setter_some};
