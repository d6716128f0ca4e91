"""What the sample department is and how its one-stop system writes exports: the units, fields
and procedures of the Department of Planning and Investment (with their legal bases), and the
export layout (headers, status / channel / rating texts, the format of each month)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

D_DKKD = "Phòng Đăng ký kinh doanh"
D_KTDN = "Phòng Kinh tế đối ngoại"
D_DTTD = "Phòng Đấu thầu, thẩm định và giám sát đầu tư"
D_DNTN = "Phòng Doanh nghiệp, kinh tế tập thể và tư nhân"
D_KTN = "Phòng Kinh tế ngành"
DEPARTMENTS = (D_DKKD, D_KTDN, D_DTTD, D_DNTN, D_KTN)
F_DN = "Thành lập và hoạt động của doanh nghiệp"
F_DT = "Đầu tư tại Việt Nam"
F_HTX = "Thành lập và hoạt động của hợp tác xã"
F_DTH = "Đấu thầu"
F_SME = "Hỗ trợ doanh nghiệp nhỏ và vừa"



# Legal bases: (effective date, date of the ministry's announcing decision).
_LAW = {
    "dn": ("04/01/2021", "22/12/2020"),  # Luật Doanh nghiệp 2020, Nghị định 01/2021/NĐ-CP
    "dt": ("26/03/2021", "10/03/2021"),  # Luật Đầu tư 2020, Nghị định 31/2021/NĐ-CP
    "htx": ("15/04/2019", "28/03/2019"),  # Thông tư 07/2019/TT-BKHĐT
    "dth": ("15/04/2020", "01/04/2020"),  # Nghị định 25/2020/NĐ-CP
    "sme": ("15/10/2021", "30/09/2021"),  # Nghị định 80/2021/NĐ-CP
}



@dataclass(frozen=True)
class Proc:
    code: str
    name: str
    field: str
    department: str
    days: int  # statutory working days
    fee: bool
    weight: float  # share of the dossier volume
    level: tuple[str, str]  # service level 2022, 2023: F full, P partial, N none
    eligible: bool  # eligible to be provided fully online
    law: str



# fmt: off
PROCEDURES: tuple[Proc, ...] = (
    Proc("1.001612", "Đăng ký thành lập doanh nghiệp tư nhân", F_DN, D_DKKD, 3, True, 40, ("F", "F"), True, "dn"),  # noqa: E501
    Proc("2.002034", "Đăng ký thành lập công ty trách nhiệm hữu hạn một thành viên", F_DN, D_DKKD, 3, True, 110, ("F", "F"), True, "dn"),  # noqa: E501
    Proc("2.002035", "Đăng ký thành lập công ty trách nhiệm hữu hạn hai thành viên trở lên", F_DN, D_DKKD, 3, True, 45, ("F", "F"), True, "dn"),  # noqa: E501
    Proc("2.002036", "Đăng ký thành lập công ty cổ phần", F_DN, D_DKKD, 3, True, 25, ("F", "F"), True, "dn"),  # noqa: E501
    Proc("2.002037", "Đăng ký thành lập công ty hợp danh", F_DN, D_DKKD, 3, True, 1, ("F", "F"), True, "dn"),  # noqa: E501
    Proc("1.001583", "Đăng ký thay đổi nội dung đăng ký doanh nghiệp", F_DN, D_DKKD, 3, True, 190, ("F", "F"), True, "dn"),  # noqa: E501
    Proc("1.001594", "Thông báo thay đổi nội dung đăng ký doanh nghiệp", F_DN, D_DKKD, 3, False, 80, ("F", "F"), True, "dn"),  # noqa: E501
    Proc("2.002040", "Đăng ký hoạt động chi nhánh, văn phòng đại diện, địa điểm kinh doanh", F_DN, D_DKKD, 3, True, 55, ("F", "F"), True, "dn"),  # noqa: E501
    Proc("1.001601", "Thông báo tạm ngừng kinh doanh, tiếp tục kinh doanh trước thời hạn đã thông báo", F_DN, D_DKKD, 3, False, 60, ("F", "F"), True, "dn"),  # noqa: E501
    Proc("2.002041", "Giải thể doanh nghiệp", F_DN, D_DKKD, 5, False, 30, ("F", "F"), True, "dn"),  # noqa: E501
    Proc("2.002042", "Chấm dứt hoạt động chi nhánh, văn phòng đại diện, địa điểm kinh doanh", F_DN, D_DKKD, 3, False, 20, ("F", "F"), True, "dn"),  # noqa: E501
    Proc("1.001620", "Cấp lại Giấy chứng nhận đăng ký doanh nghiệp", F_DN, D_DKKD, 3, True, 8, ("P", "F"), True, "dn"),  # noqa: E501
    Proc("2.002045", "Hiệu đính thông tin trong Giấy chứng nhận đăng ký doanh nghiệp", F_DN, D_DKKD, 3, False, 6, ("P", "F"), True, "dn"),  # noqa: E501
    Proc("2.002046", "Chuyển đổi công ty trách nhiệm hữu hạn một thành viên thành công ty cổ phần", F_DN, D_DKKD, 3, True, 4, ("P", "F"), True, "dn"),  # noqa: E501
    Proc("2.002047", "Chuyển đổi doanh nghiệp tư nhân thành công ty trách nhiệm hữu hạn", F_DN, D_DKKD, 3, True, 3, ("P", "F"), True, "dn"),  # noqa: E501
    Proc("2.002048", "Đăng ký doanh nghiệp đối với các công ty được thành lập trên cơ sở chia, tách, hợp nhất doanh nghiệp", F_DN, D_DKKD, 3, True, 1, ("P", "P"), True, "dn"),  # noqa: E501
    Proc("1.001630", "Cập nhật bổ sung thông tin trong hồ sơ đăng ký doanh nghiệp", F_DN, D_DKKD, 3, False, 12, ("F", "F"), True, "dn"),  # noqa: E501
    Proc("2.002050", "Thông báo thay đổi thông tin của cổ đông là nhà đầu tư nước ngoài trong công ty cổ phần chưa niêm yết", F_DN, D_DKKD, 3, False, 2, ("P", "F"), True, "dn"),  # noqa: E501
    Proc("2.002051", "Đề nghị cung cấp thông tin về nội dung đăng ký doanh nghiệp", F_DN, D_DKKD, 3, True, 10, ("F", "F"), True, "dn"),  # noqa: E501
    Proc("1.009645", "Cấp Giấy chứng nhận đăng ký đầu tư đối với dự án không thuộc diện chấp thuận chủ trương đầu tư", F_DT, D_KTDN, 15, False, 6, ("P", "P"), False, "dt"),  # noqa: E501
    Proc("1.009644", "Cấp Giấy chứng nhận đăng ký đầu tư đối với dự án thuộc diện chấp thuận chủ trương đầu tư của Ủy ban nhân dân cấp tỉnh", F_DT, D_KTDN, 5, False, 5, ("P", "P"), False, "dt"),  # noqa: E501
    Proc("1.009642", "Chấp thuận chủ trương đầu tư của Ủy ban nhân dân cấp tỉnh", F_DT, D_KTN, 35, False, 14, ("P", "P"), False, "dt"),  # noqa: E501
    Proc("1.009650", "Điều chỉnh Giấy chứng nhận đăng ký đầu tư", F_DT, D_KTDN, 10, False, 10, ("P", "P"), False, "dt"),  # noqa: E501
    Proc("1.009648", "Điều chỉnh dự án đầu tư trong trường hợp dự án đã được chấp thuận chủ trương đầu tư", F_DT, D_KTN, 25, False, 12, ("P", "P"), False, "dt"),  # noqa: E501
    Proc("1.009655", "Cấp lại Giấy chứng nhận đăng ký đầu tư", F_DT, D_KTDN, 5, False, 2, ("P", "F"), True, "dt"),  # noqa: E501
    Proc("1.009656", "Hiệu đính thông tin trên Giấy chứng nhận đăng ký đầu tư", F_DT, D_KTDN, 3, False, 2, ("P", "F"), True, "dt"),  # noqa: E501
    Proc("1.009652", "Chuyển nhượng dự án đầu tư", F_DT, D_KTN, 25, False, 3, ("N", "P"), False, "dt"),  # noqa: E501
    Proc("1.009660", "Gia hạn thời hạn hoạt động của dự án đầu tư", F_DT, D_KTN, 25, False, 2, ("N", "P"), False, "dt"),  # noqa: E501
    Proc("1.009661", "Ngừng hoạt động của dự án đầu tư", F_DT, D_KTN, 15, False, 2, ("P", "P"), False, "dt"),  # noqa: E501
    Proc("1.009662", "Chấm dứt hoạt động của dự án đầu tư", F_DT, D_KTN, 15, False, 3, ("P", "P"), False, "dt"),  # noqa: E501
    Proc("1.009663", "Thành lập văn phòng điều hành của nhà đầu tư nước ngoài trong hợp đồng BCC", F_DT, D_KTDN, 15, False, 1, ("P", "P"), False, "dt"),  # noqa: E501
    Proc("1.009664", "Góp vốn, mua cổ phần, mua phần vốn góp của nhà đầu tư nước ngoài", F_DT, D_KTDN, 15, False, 3, ("P", "F"), True, "dt"),  # noqa: E501
    Proc("1.009665", "Cung cấp thông tin về dự án đầu tư", F_DT, D_KTDN, 5, False, 1, ("P", "F"), True, "dt"),  # noqa: E501
    Proc("1.005280", "Đăng ký thành lập hợp tác xã", F_HTX, D_DKKD, 3, True, 10, ("F", "F"), True, "htx"),  # noqa: E501
    Proc("1.005281", "Đăng ký thay đổi tên, địa chỉ trụ sở chính, ngành, nghề sản xuất, kinh doanh, vốn điều lệ, người đại diện theo pháp luật của hợp tác xã", F_HTX, D_DKKD, 3, True, 12, ("F", "F"), True, "htx"),  # noqa: E501
    Proc("1.005282", "Đăng ký thành lập chi nhánh, văn phòng đại diện, địa điểm kinh doanh của hợp tác xã", F_HTX, D_DKKD, 3, True, 3, ("P", "F"), True, "htx"),  # noqa: E501
    Proc("1.005283", "Giải thể tự nguyện hợp tác xã", F_HTX, D_DNTN, 5, False, 4, ("P", "F"), True, "htx"),  # noqa: E501
    Proc("1.005284", "Cấp lại giấy chứng nhận đăng ký hợp tác xã", F_HTX, D_DKKD, 3, True, 2, ("P", "F"), True, "htx"),  # noqa: E501
    Proc("1.005285", "Tạm ngừng hoạt động của hợp tác xã, chi nhánh, văn phòng đại diện, địa điểm kinh doanh của hợp tác xã", F_HTX, D_DKKD, 3, False, 2, ("P", "F"), True, "htx"),  # noqa: E501
    Proc("1.005286", "Đăng ký thành lập liên hiệp hợp tác xã", F_HTX, D_DNTN, 5, True, 1, ("N", "P"), True, "htx"),  # noqa: E501
    Proc("1.005287", "Thông báo thay đổi nội dung đăng ký hợp tác xã", F_HTX, D_DKKD, 3, False, 3, ("P", "F"), True, "htx"),  # noqa: E501
    Proc("2.002199", "Thẩm định kế hoạch lựa chọn nhà thầu", F_DTH, D_DTTD, 20, False, 12, ("N", "P"), False, "dth"),  # noqa: E501
    Proc("2.002200", "Thẩm định kết quả lựa chọn nhà thầu", F_DTH, D_DTTD, 20, False, 8, ("N", "P"), False, "dth"),  # noqa: E501
    Proc("1.008412", "Thẩm định hồ sơ mời thầu lựa chọn nhà đầu tư thực hiện dự án đầu tư có sử dụng đất", F_DTH, D_DTTD, 20, False, 2, ("N", "N"), False, "dth"),  # noqa: E501
    Proc("1.008413", "Thẩm định kết quả lựa chọn nhà đầu tư thực hiện dự án đầu tư có sử dụng đất", F_DTH, D_DTTD, 20, False, 2, ("N", "N"), False, "dth"),  # noqa: E501
    Proc("1.008414", "Thẩm định danh mục dự án đầu tư có sử dụng đất cần lựa chọn nhà đầu tư", F_DTH, D_DTTD, 30, False, 2, ("N", "P"), False, "dth"),  # noqa: E501
    Proc("2.001966", "Hỗ trợ tư vấn, hướng dẫn hồ sơ, thủ tục thành lập doanh nghiệp cho hộ kinh doanh chuyển đổi thành doanh nghiệp", F_SME, D_DNTN, 10, False, 4, ("N", "P"), True, "sme"),  # noqa: E501
    Proc("2.001967", "Hỗ trợ sử dụng dịch vụ tư vấn cho doanh nghiệp nhỏ và vừa", F_SME, D_DNTN, 10, False, 3, ("N", "P"), False, "sme"),  # noqa: E501
    Proc("2.001968", "Hỗ trợ đào tạo nâng cao năng lực quản trị doanh nghiệp nhỏ và vừa", F_SME, D_DNTN, 10, False, 3, ("P", "P"), False, "sme"),  # noqa: E501
    Proc("2.001969", "Hỗ trợ doanh nghiệp nhỏ và vừa khởi nghiệp sáng tạo", F_SME, D_DNTN, 10, False, 2, ("P", "P"), False, "sme"),  # noqa: E501
    Proc("2.001970", "Hỗ trợ doanh nghiệp nhỏ và vừa tham gia cụm liên kết ngành, chuỗi giá trị", F_SME, D_DNTN, 10, False, 1, ("N", "P"), False, "sme"),  # noqa: E501
)
LEVEL_TEXT = {"F": "Toàn trình", "P": "Một phần", "N": "Mức độ 2"}
LEGACY_LEVEL_TEXT = {"F": "Mức độ 4", "P": "Mức độ 3", "N": "Mức độ 2"}



# Headers: the first spelling of each column in cchc_lib/mapping.yaml (the data contract's).
DOSSIER_HEADERS = (
    "STT", "Mã hồ sơ", "Mã TTHC", "Tên TTHC", "Lĩnh vực", "Phòng xử lý", "Kênh nộp", "Mức độ DVC",
    "Ngày tiếp nhận", "Ngày hẹn trả", "Ngày có kết quả", "Ngày trả kết quả", "Trạng thái",
    "Có phí, lệ phí", "Thanh toán trực tuyến", "Số hóa hồ sơ", "Kết quả điện tử", "Đồng bộ DVCQG",
    "Phiếu xin lỗi", "Đánh giá", "Ngày đánh giá", "Thời gian chờ (phút)",
    "Tái sử dụng dữ liệu số hóa", "Kết nối dữ liệu dân cư", "Lấy từ kho DVCQG",
    "Chủ hồ sơ", "Số CCCD/CMND", "Số điện thoại", "Email", "Địa chỉ",
)
YES_NO_HEADERS = (
    "Có phí, lệ phí", "Thanh toán trực tuyến", "Số hóa hồ sơ", "Kết quả điện tử", "Đồng bộ DVCQG",
    "Phiếu xin lỗi", "Tái sử dụng dữ liệu số hóa", "Kết nối dữ liệu dân cư", "Lấy từ kho DVCQG",
)
PROCEDURE_HEADERS = (
    "STT", "Mã TTHC", "Tên TTHC", "Lĩnh vực", "Cơ quan thực hiện", "Mức độ DVC",
    "Đủ điều kiện toàn trình", "Tích hợp DVCQG", "Công khai niêm yết", "Công khai điện tử",
    "Thanh toán trực tuyến", "Có phí", "Thời hạn giải quyết (ngày làm việc)",
    "Số trường tờ khai trước", "Số trường tờ khai sau", "Năm", "Ngày hiệu lực văn bản",
    "Ngày quyết định công bố", "Ngày công khai", "Đủ bộ phận tạo thành", "Kết nối dữ liệu dân cư",
)
FEEDBACK_HEADERS = (
    "STT", "Mã PAKN", "Ngày tiếp nhận", "Hạn xử lý", "Ngày xử lý xong", "Đối tượng", "Đánh giá",
    "Mã hồ sơ", "Người gửi", "Số điện thoại",
)
STATUS_TEXT = {
    "not_received": "Mới đăng ký", "received": "Đã tiếp nhận", "processing": "Đang xử lý",
    "awaiting_supplement": "Chờ bổ sung", "awaiting_payment": "Yêu cầu thực hiện nghĩa vụ tài chính",
    "suspended": "Dừng xử lý", "resolved": "Đã có kết quả", "returned": "Đã trả kết quả",
    "refused": "Từ chối giải quyết", "withdrawn": "Công dân rút hồ sơ",
}
CHANNEL_TEXT = {"online": "Trực tuyến", "in_person": "Trực tiếp", "postal": "Bưu chính công ích"}
RATING_TEXT = {"very_satisfied": "Rất hài lòng", "satisfied": "Hài lòng", "unsatisfied": "Không hài lòng"}



# How each monthly export is written (the formats a real department receives over two years).
#   kind: csv | xlsx | html (a real system's "Xuất Excel", sample_real.py);
#   encoding: utf-8 | utf-8-sig | utf-16 | cp1258; yn: yes/no style;
#   nfd: share of rows whose text is in decomposed Unicode; legacy: legacy service levels.
_DEFAULT_FORMAT = {"kind": "csv", "encoding": "utf-8", "yn": "cokhong", "nfd": 0.0, "legacy": False}



EXPORT_FORMATS: dict[str, dict] = {
    "2022-01": {"legacy": True, "yn": "x"},
    "2022-02": {"legacy": True, "yn": "x"},
    "2022-03": {"legacy": True, "encoding": "utf-8-sig"},
    "2022-04": {"legacy": True, "yn": "10"},
    "2022-05": {"legacy": True, "yn": "mixed"},
    "2022-06": {"kind": "xlsx", "legacy": True},
    "2022-09": {"encoding": "utf-16", "yn": "10"},
    "2022-11": {"nfd": 0.35, "yn": "mixed"},
    "2022-12": {"kind": "xlsx", "yn": "x"},
    "2023-02": {"yn": "mixed"},
    "2023-03": {"kind": "xlsx"},
    "2023-05": {"encoding": "cp1258"},
    "2023-06": {"kind": "html"},
    "2023-07": {"yn": "x"},
    "2023-09": {"kind": "xlsx", "yn": "10"},
    "2023-10": {"encoding": "utf-8-sig", "yn": "mixed"},
}
_FIXED_ZIP_TIME = (2024, 1, 1, 0, 0, 0)
_FIXED_DOC_TIME = pd.Timestamp("2024-01-01 00:00:00").to_pydatetime()



def _level_codes(year_idx: np.ndarray) -> np.ndarray:
    table = np.array([[p.level[0] for p in PROCEDURES], [p.level[1] for p in PROCEDURES]])
    return table[year_idx]
