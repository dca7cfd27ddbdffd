//! `service!`: declares a service (see the module docs of
//! [`crate::service`](mod@crate::service) for what it generates and why).
//! Only the macro lives here; the runtime it expands to is in `service.rs`.

/// Declares a service: its name and version, and its functions with their
/// `#[repr(C)]` argument structs. See the [module docs](mod@crate::service)
/// for what it generates and a complete example.
///
/// ```text
/// uvplug::service! {
///     /// docs
///     pub service Kv {
///         name = "kv", major = 1, minor = 0,
///         provider = KvProvider, client = KvClient;
///         /// docs
///         fn get [KV_GET = 0] (KvGetArgs { /// docs
///                                          key: *const u8, key_len: usize, ... });
///         ...
///     }
/// }
/// ```
///
/// Indices are explicit: a new minor only appends functions (new indices),
/// so old importers keep theirs. Every field of the argument structs is
/// `pub`; pointer fields are borrowed from the caller for the call only.
#[macro_export]
macro_rules! service {
    (
        $(#[$meta:meta])*
        $vis:vis service $svc:ident {
            name = $name:literal, major = $major:expr, minor = $minor:expr,
            provider = $prov:ident, client = $client:ident;
            $(
                $(#[$fmeta:meta])*
                fn $f:ident [$idx_name:ident = $idx:literal] ($args:ident {
                    $( $(#[$ameta:meta])* $field:ident : $fty:ty ),* $(,)?
                });
            )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy)]
        $vis struct $svc;

        // A trait impl, not inherent consts: cbindgen would copy those
        // into the C header as `Kv_MAJOR`...
        impl $crate::service::Declaration for $svc {
            const NAME: &'static str = $name;
            const MAJOR: u16 = $major;
            const MINOR: u16 = $minor;
            const COUNT: u32 = [$($idx),+].len() as u32;
        }

        $(
            #[doc = concat!(" Index of `", stringify!($f), "` in the `", $name, "` table.")]
            $vis const $idx_name: u32 = $idx;

            #[doc = concat!(" Arguments of `", $name, ".", stringify!($f), "` (inputs and outputs).")]
            #[repr(C)]
            #[derive(Debug, Clone, Copy)]
            $vis struct $args {
                $( $(#[$ameta])* pub $field: $fty, )*
            }
        )+

        #[doc = concat!("What a plugin implements to export `", $name, "`.")]
        $vis trait $prov: $crate::Plugin {
            $(
                $(#[$fmeta])*
                fn $f(&mut self, ctx: &mut $crate::Ctx<Self>, args: &mut $args) -> $crate::Result<()>;
            )+
        }

        impl<P: $prov> $crate::service::Provide<P> for $svc {
            fn export(ctx: &$crate::Ctx<P>) -> $crate::Result<$crate::ServiceExport> {
                $(
                    extern "C" fn $f<P: $prov>(
                        instance: *mut ::std::os::raw::c_void,
                        args: *mut ::std::os::raw::c_void,
                    ) -> ::std::os::raw::c_int {
                        let f = <P as $prov>::$f;
                        let what = concat!("service ", $name, ".", stringify!($f));
                        // SAFETY: the host passes the instance this table
                        // was exported with (a ServiceInstance of P) and the
                        // caller's args, the struct of this index (V3).
                        unsafe { $crate::service::serve::<P, $args, _>(instance, args, what, f) }
                    }
                )+
                let mut fns: ::std::vec::Vec<$crate::sys::uvp_service_fn> =
                    ::std::vec![None; <$svc as $crate::service::Declaration>::COUNT as usize];
                $( fns[$idx] = Some($f::<P> as $crate::service::ServiceFn); )+
                if fns.iter().any(|f| f.is_none()) {
                    return Err($crate::Error::Invalid); // indices not 0..COUNT
                }
                let (name, major, minor) = ($name, $major, $minor);
                // SAFETY: every entry is a thunk above, which takes this P's
                // ServiceInstance, as export_table gives it.
                unsafe { ctx.export_table(name, major, minor, fns) }
            }
        }

        #[doc = concat!("A typed reference to `", $name, "`: each method calls through the host's `service_call` (V3). Dropping it drops the reference.")]
        #[derive(Debug)]
        $vis struct $client($crate::ServiceRef);

        impl $crate::service::Client for $client {
            const NAME: &'static str = $name;
            const MAJOR: u16 = $major;
            const MINOR: u16 = $minor;
            fn from_ref(r: $crate::ServiceRef) -> Self {
                $client(r)
            }
            fn service_ref(&self) -> &$crate::ServiceRef {
                &self.0
            }
        }

        impl $client {
            /// Version, provider and revoke state of the reference.
            pub fn info(&self) -> $crate::Result<$crate::ServiceInfo> {
                self.0.info()
            }

            /// Why the reference was revoked, or `None` while it is live.
            pub fn revoked(&self) -> Option<$crate::Error> {
                self.0.revoked()
            }

            $(
                $(#[$fmeta])*
                pub fn $f(&self, args: &mut $args) -> $crate::Result<()> {
                    let index: u32 = $idx_name;
                    // SAFETY: args has the type this index is declared
                    // with; the provider implements the same declaration.
                    unsafe { self.0.call(index, args) }
                }
            )+
        }
    };
}
