//! SANE status codes and the typed errors of capture, each with an operator
//! message in Vietnamese and English and a stable code for logs and tests.
//!
//! Pure data: never calls SANE, never decides retries (adf.rs does).

use std::fmt;

/// A `SANE_Status` other than GOOD, one variant per code of SANE 1.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Unsupported,
    Cancelled,
    DeviceBusy,
    Inval,
    Eof,
    Jammed,
    NoDocs,
    CoverOpen,
    IoError,
    NoMem,
    AccessDenied,
    /// A code outside SANE 1.0 (e.g. WARMING_UP = 12, HW_LOCKED = 13).
    Other(i32),
}

impl Status {
    /// Maps a raw status; `None` for GOOD.
    pub fn from_raw(code: i32) -> Option<Status> {
        Some(match code {
            0 => return None,
            1 => Status::Unsupported,
            2 => Status::Cancelled,
            3 => Status::DeviceBusy,
            4 => Status::Inval,
            5 => Status::Eof,
            6 => Status::Jammed,
            7 => Status::NoDocs,
            8 => Status::CoverOpen,
            9 => Status::IoError,
            10 => Status::NoMem,
            11 => Status::AccessDenied,
            n => Status::Other(n),
        })
    }

    /// Converts a raw status into `Ok(())` or the typed status.
    pub fn check(code: i32) -> Result<(), Status> {
        match Status::from_raw(code) {
            None => Ok(()),
            Some(s) => Err(s),
        }
    }
}

/// What the frontend was doing when the error came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Init,
    Open,
    Option,
    Start,
    Parameters,
    Read,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Init => "sane_init",
            Op::Open => "sane_open",
            Op::Option => "sane_control_option",
            Op::Start => "sane_start",
            Op::Parameters => "sane_get_parameters",
            Op::Read => "sane_read",
        })
    }
}

/// Every way capture can fail. `code()` is stable; `message_vi()` and
/// `message_en()` are what the operator sees.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScanError {
    #[error("libsane.so.1 not found: install libsane1; scanning is off ({0})")]
    LibraryMissing(String),
    #[error("{op}: {status:?}")]
    Sane { op: Op, status: Status },
    #[error("page cut short: {got} of {expected} bytes")]
    CutShort { got: u64, expected: u64 },
    #[error("no scanner named {0:?}")]
    NoDevice(String),
    #[error("scanner {0:?} is gone (unplugged?)")]
    DeviceGone(String),
    #[error("option {name}: {reason}")]
    BadOption { name: String, reason: String },
    #[error("unsupported frame: {0}")]
    Frame(String),
    #[error("cancelled by the operator")]
    Cancelled,
    #[error("scanner is busy with another scan")]
    Locked,
    #[error("cannot write the page: {0}")]
    Output(String),
    #[error("the scanner sent nothing for {0} s mid-page")]
    Stalled(u64),
}

impl ScanError {
    pub fn sane(op: Op, status: Status) -> ScanError {
        ScanError::Sane { op, status }
    }

    /// A short stable code (used in logs, CLI output and tests).
    pub fn code(&self) -> &'static str {
        match self {
            ScanError::LibraryMissing(_) => "library-missing",
            ScanError::Sane { status, .. } => match status {
                Status::Unsupported => "unsupported",
                Status::Cancelled => "cancelled",
                Status::DeviceBusy => "device-busy",
                Status::Inval => "invalid",
                Status::Eof => "eof",
                Status::Jammed => "jammed",
                Status::NoDocs => "no-docs",
                Status::CoverOpen => "cover-open",
                Status::IoError => "io-error",
                Status::NoMem => "no-mem",
                Status::AccessDenied => "access-denied",
                Status::Other(_) => "status-other",
            },
            ScanError::CutShort { .. } => "cut-short",
            ScanError::NoDevice(_) => "no-device",
            ScanError::DeviceGone(_) => "device-gone",
            ScanError::BadOption { .. } => "bad-option",
            ScanError::Frame(_) => "frame",
            ScanError::Cancelled => "cancelled",
            ScanError::Locked => "locked",
            ScanError::Output(_) => "output",
            ScanError::Stalled(_) => "stalled",
        }
    }

    /// The status behind the error, when SANE gave one.
    pub fn status(&self) -> Option<Status> {
        match self {
            ScanError::Sane { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the scanner may have been unplugged (worth looking for again).
    pub fn maybe_unplugged(&self) -> bool {
        matches!(
            self,
            ScanError::DeviceGone(_)
                | ScanError::Stalled(_)
                | ScanError::Sane {
                    status: Status::IoError,
                    ..
                }
        )
    }

    /// The message for the operator, in Vietnamese.
    pub fn message_vi(&self) -> String {
        match self {
            ScanError::LibraryMissing(_) => {
                "Không tìm thấy thư viện SANE (libsane.so.1): hãy cài gói libsane1. Chức năng quét đang tắt.".into()
            }
            ScanError::Sane { status, .. } => match status {
                Status::Jammed => "Kẹt giấy trong khay nạp. Hãy gỡ tờ giấy bị kẹt rồi quét lại trang này.".into(),
                Status::CoverOpen => "Nắp máy quét đang mở. Hãy đóng nắp rồi quét lại.".into(),
                Status::DeviceBusy => "Máy quét đang bận. Hãy chờ một lát rồi thử lại.".into(),
                Status::IoError => "Lỗi kết nối với máy quét. Hãy kiểm tra cáp và nguồn điện.".into(),
                Status::NoDocs => "Khay nạp giấy không có giấy.".into(),
                Status::Cancelled => "Lượt quét đã bị hủy.".into(),
                Status::NoMem => "Máy quét hoặc máy tính hết bộ nhớ.".into(),
                Status::AccessDenied => "Không có quyền dùng máy quét.".into(),
                Status::Unsupported => "Máy quét không hỗ trợ thao tác này.".into(),
                Status::Inval => "Thiết lập quét không hợp lệ.".into(),
                Status::Eof => "Máy quét dừng gửi dữ liệu giữa chừng.".into(),
                Status::Other(n) => format!("Máy quét báo lỗi không rõ (mã {n})."),
            },
            ScanError::CutShort { .. } => {
                "Trang bị cắt ngắn (thiếu dữ liệu): trang này không được lưu, hãy quét lại.".into()
            }
            ScanError::NoDevice(n) => format!("Không tìm thấy máy quét {n}."),
            ScanError::DeviceGone(n) => {
                format!("Mất kết nối với máy quét {n}. Hãy cắm lại; phần mềm sẽ tự tìm lại máy.")
            }
            ScanError::BadOption { name, .. } => format!("Tùy chọn quét không hợp lệ: {name}."),
            ScanError::Frame(_) => "Máy quét gửi dữ liệu ảnh không đọc được.".into(),
            ScanError::Cancelled => "Lượt quét đã bị hủy.".into(),
            ScanError::Locked => "Máy quét đang được dùng cho một lượt quét khác.".into(),
            ScanError::Output(e) => format!("Không ghi được trang ra đĩa: {e}."),
            ScanError::Stalled(s) => format!(
                "Máy quét ngừng gửi dữ liệu {s} giây giữa trang. Hãy kiểm tra máy quét rồi quét lại trang này."
            ),
        }
    }

    /// The message for the operator, in English.
    pub fn message_en(&self) -> String {
        match self {
            ScanError::Sane { status, .. } => match status {
                Status::Jammed => {
                    "Paper jam in the feeder. Clear the jammed sheet and rescan this page.".into()
                }
                Status::CoverOpen => "The scanner cover is open. Close it and scan again.".into(),
                Status::DeviceBusy => "The scanner is busy. Wait a moment and try again.".into(),
                Status::IoError => {
                    "Cannot talk to the scanner. Check the cable and the power.".into()
                }
                Status::NoDocs => "The feeder is empty.".into(),
                Status::Cancelled => "The scan was cancelled.".into(),
                Status::NoMem => "The scanner or the computer ran out of memory.".into(),
                Status::AccessDenied => "No permission to use the scanner.".into(),
                Status::Unsupported => "The scanner does not support this operation.".into(),
                Status::Inval => "Invalid scan settings.".into(),
                Status::Eof => "The scanner stopped sending data mid-page.".into(),
                Status::Other(n) => format!("The scanner reported an unknown error (code {n})."),
            },
            ScanError::CutShort { .. } => {
                "The page was cut short (data missing): it was not saved, rescan it.".into()
            }
            ScanError::DeviceGone(n) => {
                format!("Lost the scanner {n}. Plug it back in; it will be found again.")
            }
            ScanError::Stalled(s) => format!(
                "The scanner sent nothing for {s} seconds mid-page. Check the scanner and rescan this page."
            ),
            other => other.to_string(),
        }
    }
}

impl From<Status> for ScanError {
    fn from(status: Status) -> ScanError {
        ScanError::Sane {
            op: Op::Read,
            status,
        }
    }
}
