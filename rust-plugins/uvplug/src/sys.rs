// generated — do not edit: run rust-plugins/uvplug/gen-sys.sh (bindgen from include/uvplug/plugin.h)

pub const UVP_ABI_MAJOR: u32 = 1;
pub const UVP_ABI_MINOR: u32 = 3;
pub const UVP_VERSION_MAJOR: u32 = 0;
pub const UVP_VERSION_MINOR: u32 = 3;
pub const UVP_VERSION_PATCH: u32 = 0;
pub const UVP_VERSION_STRING: &[u8; 6usize] = b"0.3.0\0";
pub const UVP_VERSION_HEX: u32 = 768;
pub const UVP_PLUGIN_MAGIC: u32 = 827348565;
pub const UVP_PLUGIN_SYMBOL_NAME: &[u8; 22usize] = b"uvp_plugin_descriptor\0";
pub const UVP_NAME_MAX: u32 = 63;
pub const UVP_TOPIC_MAX: u32 = 255;
pub const UVP_COUNTERS_MAX: u32 = 32;
pub const UVP_OK: uvp_status = 0;
pub const UVP_EINVAL: uvp_status = -22;
pub const UVP_ENOMEM: uvp_status = -12;
pub const UVP_EAGAIN: uvp_status = -11;
pub const UVP_ENOENT: uvp_status = -2;
pub const UVP_EMSGSIZE: uvp_status = -90;
pub const UVP_ENOSPC: uvp_status = -28;
pub const UVP_EBUSY: uvp_status = -16;
pub const UVP_ECANCELED: uvp_status = -125;
pub const UVP_EWRONGTHREAD: uvp_status = -4001;
pub const UVP_EPANIC: uvp_status = -4002;
pub const UVP_ESTALE: uvp_status = -4003;
pub const UVP_ECLOSED: uvp_status = -4004;
pub const UVP_EINIT: uvp_status = -4005;
pub const UVP_ENOTSO: uvp_status = -4010;
pub const UVP_ENOSYM: uvp_status = -4011;
pub const UVP_EBADMAGIC: uvp_status = -4012;
pub const UVP_EABI: uvp_status = -4013;
pub const UVP_ESHORT: uvp_status = -4014;
pub const UVP_EDUPNAME: uvp_status = -4015;
pub const UVP_EBADDESC: uvp_status = -4016;
pub const UVP_EACCES: uvp_status = -13;
pub const UVP_ENOTFOUND: uvp_status = -4017;
pub const UVP_ENOTREG: uvp_status = -4018;
pub const UVP_ENOTELF: uvp_status = -4019;
pub const UVP_EMACHINE: uvp_status = -4020;
pub const UVP_ENOTDYN: uvp_status = -4021;
pub const UVP_EFILEMODE: uvp_status = -4022;
pub const UVP_EFILEOWNER: uvp_status = -4023;
pub const UVP_EDIRMODE: uvp_status = -4024;
pub const UVP_EHASH: uvp_status = -4025;
pub const UVP_ESVCDUP: uvp_status = -4026;
pub const UVP_ESVCMAJOR: uvp_status = -4027;
pub const UVP_ESVCMINOR: uvp_status = -4028;
pub type uvp_status = i32;
#[repr(C)]
#[derive(Debug, Copy, Clone)]
pub struct uvp_ctx {
    _unused: [u8; 0],
}
pub type uvp_id = u64;
pub type uvp_topic = u32;
pub const UVP_LOG_ERROR: uvp_log_level = 0;
pub const UVP_LOG_WARN: uvp_log_level = 1;
pub const UVP_LOG_INFO: uvp_log_level = 2;
pub const UVP_LOG_DEBUG: uvp_log_level = 3;
pub type uvp_log_level = u32;
pub const UVP_FD_READABLE: uvp_fd_events = 1;
pub const UVP_FD_WRITABLE: uvp_fd_events = 2;
pub type uvp_fd_events = u32;
pub const UVP_PLUGIN_UNLOAD_SAFE: uvp_plugin_flags = 1;
pub type uvp_plugin_flags = u32;
#[repr(C)]
pub struct uvp_event {
    pub size: u32,
    pub topic: uvp_topic,
    pub topic_name: *const ::std::os::raw::c_char,
    pub topic_name_len: usize,
    pub data: *const ::std::os::raw::c_void,
    pub len: usize,
}
#[test]
fn bindgen_test_layout_uvp_event() {
    assert_eq!(
        ::std::mem::size_of::<uvp_event>(),
        40usize,
        concat!("Size of: ", stringify!(uvp_event))
    );
    assert_eq!(
        ::std::mem::align_of::<uvp_event>(),
        8usize,
        concat!("Alignment of ", stringify!(uvp_event))
    );
    fn test_field_size() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_event>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).size) as usize - ptr as usize
            },
            0usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_event),
                "::",
                stringify!(size)
            )
        );
    }
    test_field_size();
    fn test_field_topic() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_event>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).topic) as usize - ptr as usize
            },
            4usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_event),
                "::",
                stringify!(topic)
            )
        );
    }
    test_field_topic();
    fn test_field_topic_name() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_event>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).topic_name) as usize - ptr as usize
            },
            8usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_event),
                "::",
                stringify!(topic_name)
            )
        );
    }
    test_field_topic_name();
    fn test_field_topic_name_len() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_event>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).topic_name_len) as usize - ptr as usize
            },
            16usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_event),
                "::",
                stringify!(topic_name_len)
            )
        );
    }
    test_field_topic_name_len();
    fn test_field_data() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_event>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).data) as usize - ptr as usize
            },
            24usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_event),
                "::",
                stringify!(data)
            )
        );
    }
    test_field_data();
    fn test_field_len() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_event>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).len) as usize - ptr as usize
            },
            32usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_event),
                "::",
                stringify!(len)
            )
        );
    }
    test_field_len();
}
pub type uvp_destroy_fn =
    ::std::option::Option<unsafe extern "C" fn(user_data: *mut ::std::os::raw::c_void)>;
pub type uvp_event_cb = ::std::option::Option<
    unsafe extern "C" fn(
        ctx: *mut uvp_ctx,
        ev: *const uvp_event,
        user_data: *mut ::std::os::raw::c_void,
    ) -> ::std::os::raw::c_int,
>;
pub type uvp_timer_cb = ::std::option::Option<
    unsafe extern "C" fn(
        ctx: *mut uvp_ctx,
        user_data: *mut ::std::os::raw::c_void,
    ) -> ::std::os::raw::c_int,
>;
pub type uvp_fd_cb = ::std::option::Option<
    unsafe extern "C" fn(
        ctx: *mut uvp_ctx,
        fd: ::std::os::raw::c_int,
        status: ::std::os::raw::c_int,
        events: ::std::os::raw::c_int,
        user_data: *mut ::std::os::raw::c_void,
    ) -> ::std::os::raw::c_int,
>;
#[repr(C)]
#[derive(Debug, Copy, Clone)]
pub struct uvp_remote {
    _unused: [u8; 0],
}
pub const UVP_POST_NONBLOCK: uvp_post_flags = 0;
pub const UVP_POST_BLOCK: uvp_post_flags = 1;
pub type uvp_post_flags = u32;
pub type uvp_post_cb = ::std::option::Option<
    unsafe extern "C" fn(
        ctx: *mut uvp_ctx,
        user_data: *mut ::std::os::raw::c_void,
    ) -> ::std::os::raw::c_int,
>;
pub type uvp_work_fn =
    ::std::option::Option<unsafe extern "C" fn(user_data: *mut ::std::os::raw::c_void)>;
pub type uvp_work_done_cb = ::std::option::Option<
    unsafe extern "C" fn(
        ctx: *mut uvp_ctx,
        status: ::std::os::raw::c_int,
        user_data: *mut ::std::os::raw::c_void,
    ) -> ::std::os::raw::c_int,
>;
pub type uvp_payload_free_fn = ::std::option::Option<
    unsafe extern "C" fn(
        data: *mut ::std::os::raw::c_void,
        len: usize,
        hint: *mut ::std::os::raw::c_void,
    ),
>;
pub type uvp_service_fn = ::std::option::Option<
    unsafe extern "C" fn(
        instance: *mut ::std::os::raw::c_void,
        args: *mut ::std::os::raw::c_void,
    ) -> ::std::os::raw::c_int,
>;
#[repr(C)]
pub struct uvp_service_export {
    pub size: u32,
    pub major: u16,
    pub minor: u16,
    pub name: *const ::std::os::raw::c_char,
    pub fns: *const uvp_service_fn,
    pub count: u32,
    pub instance: *mut ::std::os::raw::c_void,
    pub destroy: uvp_destroy_fn,
}
#[test]
fn bindgen_test_layout_uvp_service_export() {
    assert_eq!(
        ::std::mem::size_of::<uvp_service_export>(),
        48usize,
        concat!("Size of: ", stringify!(uvp_service_export))
    );
    assert_eq!(
        ::std::mem::align_of::<uvp_service_export>(),
        8usize,
        concat!("Alignment of ", stringify!(uvp_service_export))
    );
    fn test_field_size() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_service_export>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).size) as usize - ptr as usize
            },
            0usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_service_export),
                "::",
                stringify!(size)
            )
        );
    }
    test_field_size();
    fn test_field_major() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_service_export>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).major) as usize - ptr as usize
            },
            4usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_service_export),
                "::",
                stringify!(major)
            )
        );
    }
    test_field_major();
    fn test_field_minor() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_service_export>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).minor) as usize - ptr as usize
            },
            6usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_service_export),
                "::",
                stringify!(minor)
            )
        );
    }
    test_field_minor();
    fn test_field_name() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_service_export>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).name) as usize - ptr as usize
            },
            8usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_service_export),
                "::",
                stringify!(name)
            )
        );
    }
    test_field_name();
    fn test_field_fns() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_service_export>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).fns) as usize - ptr as usize
            },
            16usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_service_export),
                "::",
                stringify!(fns)
            )
        );
    }
    test_field_fns();
    fn test_field_count() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_service_export>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).count) as usize - ptr as usize
            },
            24usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_service_export),
                "::",
                stringify!(count)
            )
        );
    }
    test_field_count();
    fn test_field_instance() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_service_export>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).instance) as usize - ptr as usize
            },
            32usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_service_export),
                "::",
                stringify!(instance)
            )
        );
    }
    test_field_instance();
    fn test_field_destroy() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_service_export>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).destroy) as usize - ptr as usize
            },
            40usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_service_export),
                "::",
                stringify!(destroy)
            )
        );
    }
    test_field_destroy();
}
pub type uvp_service_revoke_cb = ::std::option::Option<
    unsafe extern "C" fn(
        ctx: *mut uvp_ctx,
        ref_: uvp_id,
        reason: ::std::os::raw::c_int,
        user_data: *mut ::std::os::raw::c_void,
    ),
>;
#[repr(C)]
pub struct uvp_service_import {
    pub size: u32,
    pub major: u16,
    pub min_minor: u16,
    pub name: *const ::std::os::raw::c_char,
    pub revoke: uvp_service_revoke_cb,
    pub user_data: *mut ::std::os::raw::c_void,
    pub destroy: uvp_destroy_fn,
}
#[test]
fn bindgen_test_layout_uvp_service_import() {
    assert_eq!(
        ::std::mem::size_of::<uvp_service_import>(),
        40usize,
        concat!("Size of: ", stringify!(uvp_service_import))
    );
    assert_eq!(
        ::std::mem::align_of::<uvp_service_import>(),
        8usize,
        concat!("Alignment of ", stringify!(uvp_service_import))
    );
    fn test_field_size() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_service_import>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).size) as usize - ptr as usize
            },
            0usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_service_import),
                "::",
                stringify!(size)
            )
        );
    }
    test_field_size();
    fn test_field_major() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_service_import>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).major) as usize - ptr as usize
            },
            4usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_service_import),
                "::",
                stringify!(major)
            )
        );
    }
    test_field_major();
    fn test_field_min_minor() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_service_import>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).min_minor) as usize - ptr as usize
            },
            6usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_service_import),
                "::",
                stringify!(min_minor)
            )
        );
    }
    test_field_min_minor();
    fn test_field_name() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_service_import>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).name) as usize - ptr as usize
            },
            8usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_service_import),
                "::",
                stringify!(name)
            )
        );
    }
    test_field_name();
    fn test_field_revoke() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_service_import>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).revoke) as usize - ptr as usize
            },
            16usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_service_import),
                "::",
                stringify!(revoke)
            )
        );
    }
    test_field_revoke();
    fn test_field_user_data() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_service_import>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).user_data) as usize - ptr as usize
            },
            24usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_service_import),
                "::",
                stringify!(user_data)
            )
        );
    }
    test_field_user_data();
    fn test_field_destroy() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_service_import>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).destroy) as usize - ptr as usize
            },
            32usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_service_import),
                "::",
                stringify!(destroy)
            )
        );
    }
    test_field_destroy();
}
#[repr(C)]
pub struct uvp_service_info {
    pub size: u32,
    pub major: u16,
    pub minor: u16,
    pub count: u32,
    pub revoked: ::std::os::raw::c_int,
    pub provider: *const ::std::os::raw::c_char,
}
#[test]
fn bindgen_test_layout_uvp_service_info() {
    assert_eq!(
        ::std::mem::size_of::<uvp_service_info>(),
        24usize,
        concat!("Size of: ", stringify!(uvp_service_info))
    );
    assert_eq!(
        ::std::mem::align_of::<uvp_service_info>(),
        8usize,
        concat!("Alignment of ", stringify!(uvp_service_info))
    );
    fn test_field_size() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_service_info>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).size) as usize - ptr as usize
            },
            0usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_service_info),
                "::",
                stringify!(size)
            )
        );
    }
    test_field_size();
    fn test_field_major() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_service_info>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).major) as usize - ptr as usize
            },
            4usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_service_info),
                "::",
                stringify!(major)
            )
        );
    }
    test_field_major();
    fn test_field_minor() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_service_info>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).minor) as usize - ptr as usize
            },
            6usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_service_info),
                "::",
                stringify!(minor)
            )
        );
    }
    test_field_minor();
    fn test_field_count() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_service_info>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).count) as usize - ptr as usize
            },
            8usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_service_info),
                "::",
                stringify!(count)
            )
        );
    }
    test_field_count();
    fn test_field_revoked() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_service_info>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).revoked) as usize - ptr as usize
            },
            12usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_service_info),
                "::",
                stringify!(revoked)
            )
        );
    }
    test_field_revoked();
    fn test_field_provider() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_service_info>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).provider) as usize - ptr as usize
            },
            16usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_service_info),
                "::",
                stringify!(provider)
            )
        );
    }
    test_field_provider();
}
#[repr(C)]
pub struct uvp_api {
    pub size: u32,
    pub abi_major: u16,
    pub abi_minor: u16,
    pub topic: ::std::option::Option<
        unsafe extern "C" fn(
            ctx: *mut uvp_ctx,
            name: *const ::std::os::raw::c_char,
            len: usize,
            out_topic: *mut uvp_topic,
        ) -> ::std::os::raw::c_int,
    >,
    pub subscribe: ::std::option::Option<
        unsafe extern "C" fn(
            ctx: *mut uvp_ctx,
            topic: uvp_topic,
            cb: uvp_event_cb,
            user_data: *mut ::std::os::raw::c_void,
            destroy: uvp_destroy_fn,
            out_id: *mut uvp_id,
        ) -> ::std::os::raw::c_int,
    >,
    pub publish: ::std::option::Option<
        unsafe extern "C" fn(
            ctx: *mut uvp_ctx,
            topic: uvp_topic,
            data: *const ::std::os::raw::c_void,
            len: usize,
        ) -> ::std::os::raw::c_int,
    >,
    pub publish_owned: ::std::option::Option<
        unsafe extern "C" fn(
            ctx: *mut uvp_ctx,
            topic: uvp_topic,
            data: *mut ::std::os::raw::c_void,
            len: usize,
            free_fn: uvp_payload_free_fn,
            hint: *mut ::std::os::raw::c_void,
        ) -> ::std::os::raw::c_int,
    >,
    pub timer_start: ::std::option::Option<
        unsafe extern "C" fn(
            ctx: *mut uvp_ctx,
            timeout_ms: u64,
            repeat_ms: u64,
            cb: uvp_timer_cb,
            user_data: *mut ::std::os::raw::c_void,
            destroy: uvp_destroy_fn,
            out_id: *mut uvp_id,
        ) -> ::std::os::raw::c_int,
    >,
    pub fd_watch: ::std::option::Option<
        unsafe extern "C" fn(
            ctx: *mut uvp_ctx,
            fd: ::std::os::raw::c_int,
            events: ::std::os::raw::c_int,
            cb: uvp_fd_cb,
            user_data: *mut ::std::os::raw::c_void,
            destroy: uvp_destroy_fn,
            out_id: *mut uvp_id,
        ) -> ::std::os::raw::c_int,
    >,
    pub cancel: ::std::option::Option<
        unsafe extern "C" fn(ctx: *mut uvp_ctx, id: uvp_id) -> ::std::os::raw::c_int,
    >,
    pub log: ::std::option::Option<
        unsafe extern "C" fn(
            ctx: *mut uvp_ctx,
            level: ::std::os::raw::c_int,
            msg: *const ::std::os::raw::c_char,
            len: usize,
        ) -> ::std::os::raw::c_int,
    >,
    pub now_ms: ::std::option::Option<
        unsafe extern "C" fn(ctx: *mut uvp_ctx, out_ms: *mut u64) -> ::std::os::raw::c_int,
    >,
    pub unload_self:
        ::std::option::Option<unsafe extern "C" fn(ctx: *mut uvp_ctx) -> ::std::os::raw::c_int>,
    pub work_queue: ::std::option::Option<
        unsafe extern "C" fn(
            ctx: *mut uvp_ctx,
            work: uvp_work_fn,
            done: uvp_work_done_cb,
            user_data: *mut ::std::os::raw::c_void,
            destroy: uvp_destroy_fn,
            out_id: *mut uvp_id,
        ) -> ::std::os::raw::c_int,
    >,
    pub remote_new: ::std::option::Option<
        unsafe extern "C" fn(
            ctx: *mut uvp_ctx,
            out_remote: *mut *mut uvp_remote,
        ) -> ::std::os::raw::c_int,
    >,
    pub remote_acquire: ::std::option::Option<
        unsafe extern "C" fn(remote: *mut uvp_remote) -> ::std::os::raw::c_int,
    >,
    pub remote_release: ::std::option::Option<unsafe extern "C" fn(remote: *mut uvp_remote)>,
    pub remote_post: ::std::option::Option<
        unsafe extern "C" fn(
            remote: *mut uvp_remote,
            cb: uvp_post_cb,
            user_data: *mut ::std::os::raw::c_void,
            destroy: uvp_destroy_fn,
            flags: ::std::os::raw::c_int,
        ) -> ::std::os::raw::c_int,
    >,
    pub remote_publish: ::std::option::Option<
        unsafe extern "C" fn(
            remote: *mut uvp_remote,
            topic: uvp_topic,
            data: *const ::std::os::raw::c_void,
            len: usize,
            flags: ::std::os::raw::c_int,
        ) -> ::std::os::raw::c_int,
    >,
    pub fault: ::std::option::Option<
        unsafe extern "C" fn(
            ctx: *mut uvp_ctx,
            status: ::std::os::raw::c_int,
            msg: *const ::std::os::raw::c_char,
            len: usize,
        ) -> ::std::os::raw::c_int,
    >,
    pub instance_name: ::std::option::Option<
        unsafe extern "C" fn(
            ctx: *mut uvp_ctx,
            out_name: *mut *const ::std::os::raw::c_char,
            out_len: *mut usize,
        ) -> ::std::os::raw::c_int,
    >,
    pub service_export: ::std::option::Option<
        unsafe extern "C" fn(
            ctx: *mut uvp_ctx,
            desc: *const uvp_service_export,
            out_id: *mut uvp_id,
        ) -> ::std::os::raw::c_int,
    >,
    pub service_import: ::std::option::Option<
        unsafe extern "C" fn(
            ctx: *mut uvp_ctx,
            req: *const uvp_service_import,
            out_ref: *mut uvp_id,
        ) -> ::std::os::raw::c_int,
    >,
    pub service_call: ::std::option::Option<
        unsafe extern "C" fn(
            ctx: *mut uvp_ctx,
            ref_: uvp_id,
            fn_: u32,
            args: *mut ::std::os::raw::c_void,
        ) -> ::std::os::raw::c_int,
    >,
    pub service_info: ::std::option::Option<
        unsafe extern "C" fn(
            ctx: *mut uvp_ctx,
            ref_: uvp_id,
            out: *mut uvp_service_info,
        ) -> ::std::os::raw::c_int,
    >,
    pub counter: ::std::option::Option<
        unsafe extern "C" fn(
            ctx: *mut uvp_ctx,
            name: *const ::std::os::raw::c_char,
            len: usize,
            out_counter: *mut *mut u64,
        ) -> ::std::os::raw::c_int,
    >,
}
#[test]
fn bindgen_test_layout_uvp_api() {
    assert_eq!(
        ::std::mem::size_of::<uvp_api>(),
        192usize,
        concat!("Size of: ", stringify!(uvp_api))
    );
    assert_eq!(
        ::std::mem::align_of::<uvp_api>(),
        8usize,
        concat!("Alignment of ", stringify!(uvp_api))
    );
    fn test_field_size() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_api>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).size) as usize - ptr as usize
            },
            0usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_api),
                "::",
                stringify!(size)
            )
        );
    }
    test_field_size();
    fn test_field_abi_major() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_api>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).abi_major) as usize - ptr as usize
            },
            4usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_api),
                "::",
                stringify!(abi_major)
            )
        );
    }
    test_field_abi_major();
    fn test_field_abi_minor() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_api>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).abi_minor) as usize - ptr as usize
            },
            6usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_api),
                "::",
                stringify!(abi_minor)
            )
        );
    }
    test_field_abi_minor();
    fn test_field_topic() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_api>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).topic) as usize - ptr as usize
            },
            8usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_api),
                "::",
                stringify!(topic)
            )
        );
    }
    test_field_topic();
    fn test_field_subscribe() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_api>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).subscribe) as usize - ptr as usize
            },
            16usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_api),
                "::",
                stringify!(subscribe)
            )
        );
    }
    test_field_subscribe();
    fn test_field_publish() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_api>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).publish) as usize - ptr as usize
            },
            24usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_api),
                "::",
                stringify!(publish)
            )
        );
    }
    test_field_publish();
    fn test_field_publish_owned() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_api>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).publish_owned) as usize - ptr as usize
            },
            32usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_api),
                "::",
                stringify!(publish_owned)
            )
        );
    }
    test_field_publish_owned();
    fn test_field_timer_start() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_api>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).timer_start) as usize - ptr as usize
            },
            40usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_api),
                "::",
                stringify!(timer_start)
            )
        );
    }
    test_field_timer_start();
    fn test_field_fd_watch() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_api>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).fd_watch) as usize - ptr as usize
            },
            48usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_api),
                "::",
                stringify!(fd_watch)
            )
        );
    }
    test_field_fd_watch();
    fn test_field_cancel() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_api>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).cancel) as usize - ptr as usize
            },
            56usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_api),
                "::",
                stringify!(cancel)
            )
        );
    }
    test_field_cancel();
    fn test_field_log() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_api>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).log) as usize - ptr as usize
            },
            64usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_api),
                "::",
                stringify!(log)
            )
        );
    }
    test_field_log();
    fn test_field_now_ms() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_api>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).now_ms) as usize - ptr as usize
            },
            72usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_api),
                "::",
                stringify!(now_ms)
            )
        );
    }
    test_field_now_ms();
    fn test_field_unload_self() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_api>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).unload_self) as usize - ptr as usize
            },
            80usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_api),
                "::",
                stringify!(unload_self)
            )
        );
    }
    test_field_unload_self();
    fn test_field_work_queue() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_api>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).work_queue) as usize - ptr as usize
            },
            88usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_api),
                "::",
                stringify!(work_queue)
            )
        );
    }
    test_field_work_queue();
    fn test_field_remote_new() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_api>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).remote_new) as usize - ptr as usize
            },
            96usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_api),
                "::",
                stringify!(remote_new)
            )
        );
    }
    test_field_remote_new();
    fn test_field_remote_acquire() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_api>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).remote_acquire) as usize - ptr as usize
            },
            104usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_api),
                "::",
                stringify!(remote_acquire)
            )
        );
    }
    test_field_remote_acquire();
    fn test_field_remote_release() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_api>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).remote_release) as usize - ptr as usize
            },
            112usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_api),
                "::",
                stringify!(remote_release)
            )
        );
    }
    test_field_remote_release();
    fn test_field_remote_post() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_api>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).remote_post) as usize - ptr as usize
            },
            120usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_api),
                "::",
                stringify!(remote_post)
            )
        );
    }
    test_field_remote_post();
    fn test_field_remote_publish() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_api>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).remote_publish) as usize - ptr as usize
            },
            128usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_api),
                "::",
                stringify!(remote_publish)
            )
        );
    }
    test_field_remote_publish();
    fn test_field_fault() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_api>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).fault) as usize - ptr as usize
            },
            136usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_api),
                "::",
                stringify!(fault)
            )
        );
    }
    test_field_fault();
    fn test_field_instance_name() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_api>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).instance_name) as usize - ptr as usize
            },
            144usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_api),
                "::",
                stringify!(instance_name)
            )
        );
    }
    test_field_instance_name();
    fn test_field_service_export() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_api>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).service_export) as usize - ptr as usize
            },
            152usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_api),
                "::",
                stringify!(service_export)
            )
        );
    }
    test_field_service_export();
    fn test_field_service_import() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_api>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).service_import) as usize - ptr as usize
            },
            160usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_api),
                "::",
                stringify!(service_import)
            )
        );
    }
    test_field_service_import();
    fn test_field_service_call() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_api>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).service_call) as usize - ptr as usize
            },
            168usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_api),
                "::",
                stringify!(service_call)
            )
        );
    }
    test_field_service_call();
    fn test_field_service_info() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_api>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).service_info) as usize - ptr as usize
            },
            176usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_api),
                "::",
                stringify!(service_info)
            )
        );
    }
    test_field_service_info();
    fn test_field_counter() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_api>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).counter) as usize - ptr as usize
            },
            184usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_api),
                "::",
                stringify!(counter)
            )
        );
    }
    test_field_counter();
}
#[repr(C)]
pub struct uvp_plugin_desc {
    pub magic: u32,
    pub abi_major: u16,
    pub abi_minor: u16,
    pub size: u32,
    pub flags: u32,
    pub name: *const ::std::os::raw::c_char,
    pub version: *const ::std::os::raw::c_char,
    pub on_init: ::std::option::Option<
        unsafe extern "C" fn(
            ctx: *mut uvp_ctx,
            api: *const uvp_api,
            config: *const ::std::os::raw::c_char,
            len: usize,
            out_state: *mut *mut ::std::os::raw::c_void,
        ) -> ::std::os::raw::c_int,
    >,
    pub on_start: ::std::option::Option<
        unsafe extern "C" fn(
            ctx: *mut uvp_ctx,
            state: *mut ::std::os::raw::c_void,
        ) -> ::std::os::raw::c_int,
    >,
    pub on_stop: ::std::option::Option<
        unsafe extern "C" fn(ctx: *mut uvp_ctx, state: *mut ::std::os::raw::c_void),
    >,
    pub on_unload: ::std::option::Option<unsafe extern "C" fn(state: *mut ::std::os::raw::c_void)>,
}
#[test]
fn bindgen_test_layout_uvp_plugin_desc() {
    assert_eq!(
        ::std::mem::size_of::<uvp_plugin_desc>(),
        64usize,
        concat!("Size of: ", stringify!(uvp_plugin_desc))
    );
    assert_eq!(
        ::std::mem::align_of::<uvp_plugin_desc>(),
        8usize,
        concat!("Alignment of ", stringify!(uvp_plugin_desc))
    );
    fn test_field_magic() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_plugin_desc>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).magic) as usize - ptr as usize
            },
            0usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_plugin_desc),
                "::",
                stringify!(magic)
            )
        );
    }
    test_field_magic();
    fn test_field_abi_major() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_plugin_desc>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).abi_major) as usize - ptr as usize
            },
            4usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_plugin_desc),
                "::",
                stringify!(abi_major)
            )
        );
    }
    test_field_abi_major();
    fn test_field_abi_minor() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_plugin_desc>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).abi_minor) as usize - ptr as usize
            },
            6usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_plugin_desc),
                "::",
                stringify!(abi_minor)
            )
        );
    }
    test_field_abi_minor();
    fn test_field_size() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_plugin_desc>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).size) as usize - ptr as usize
            },
            8usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_plugin_desc),
                "::",
                stringify!(size)
            )
        );
    }
    test_field_size();
    fn test_field_flags() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_plugin_desc>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).flags) as usize - ptr as usize
            },
            12usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_plugin_desc),
                "::",
                stringify!(flags)
            )
        );
    }
    test_field_flags();
    fn test_field_name() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_plugin_desc>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).name) as usize - ptr as usize
            },
            16usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_plugin_desc),
                "::",
                stringify!(name)
            )
        );
    }
    test_field_name();
    fn test_field_version() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_plugin_desc>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).version) as usize - ptr as usize
            },
            24usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_plugin_desc),
                "::",
                stringify!(version)
            )
        );
    }
    test_field_version();
    fn test_field_on_init() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_plugin_desc>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).on_init) as usize - ptr as usize
            },
            32usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_plugin_desc),
                "::",
                stringify!(on_init)
            )
        );
    }
    test_field_on_init();
    fn test_field_on_start() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_plugin_desc>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).on_start) as usize - ptr as usize
            },
            40usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_plugin_desc),
                "::",
                stringify!(on_start)
            )
        );
    }
    test_field_on_start();
    fn test_field_on_stop() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_plugin_desc>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).on_stop) as usize - ptr as usize
            },
            48usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_plugin_desc),
                "::",
                stringify!(on_stop)
            )
        );
    }
    test_field_on_stop();
    fn test_field_on_unload() {
        assert_eq!(
            // SAFETY: layout test; `ptr` points into a live MaybeUninit and is only used
            // with addr_of! to compute an offset, never read.
            unsafe {
                let uninit = ::std::mem::MaybeUninit::<uvp_plugin_desc>::uninit();
                let ptr = uninit.as_ptr();
                ::std::ptr::addr_of!((*ptr).on_unload) as usize - ptr as usize
            },
            56usize,
            concat!(
                "Offset of field: ",
                stringify!(uvp_plugin_desc),
                "::",
                stringify!(on_unload)
            )
        );
    }
    test_field_on_unload();
}
