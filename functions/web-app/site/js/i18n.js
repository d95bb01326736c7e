// The app's words in English and Korean. A key missing in Korean falls back
// to English; an API error code with no entry shows the API's own message.

const en = {
  brand: 'Booking', skip: 'Skip to content', language: 'Language', loading: 'Loading…',
  'nav.venues': 'Venues', 'nav.bookings': 'My bookings', 'nav.wallet': 'Wallet', 'nav.inbox': 'Inbox',
  'nav.login': 'Log in', 'nav.signup': 'Sign up', 'nav.logout': 'Log out', 'nav.admin': 'Dashboard',
  'nav.catalog': 'Catalog', 'nav.deadletters': 'Dead letters', 'nav.activity': 'Activity',
  'auth.email': 'Email', 'auth.password': 'Password', 'auth.name': 'Name', 'auth.phone': 'Phone',
  'auth.phone_hint': 'International form, e.g. +82 10 1234 5678',
  'auth.password_hint': '10 to 128 characters: letters with digits or symbols',
  'auth.login': 'Log in', 'auth.signup': 'Create account', 'auth.signed_up': 'Account created. Welcome!',
  'auth.no_account': 'No account yet?', 'auth.have_account': 'Already have an account?',
  'auth.expired': 'Your session ended. Please log in again.',
  'venues.title': 'Venues', 'venues.empty': 'No venues yet.', 'venue.resources': 'What you can book',
  'kind.GOLF_CLUB': 'Golf club', 'kind.CONCERT_HALL': 'Concert hall', 'kind.COWORKING': 'Coworking', 'kind.OTHER': 'Other',
  'kind.COURSE': 'Course', 'kind.PERFORMANCE': 'Performance', 'kind.ROOM': 'Room',
  'day.date': 'Date', 'day.show': 'Show', 'day.none': 'Nothing to book on this day.',
  'day.times': 'Times are local to the venue ({zone}).', 'slot.left': '{n} of {c} left', 'slot.premium': 'Premium',
  'slot.quantity': 'Places', 'slot.book': 'Book', 'slot.seats': 'Choose seats',
  'avail.AVAILABLE': 'Available', 'avail.FULLY_BOOKED': 'Fully booked', 'avail.CLOSED': 'Closed',
  'seats.title': 'Choose your seats', 'seats.selected': 'Selected: {list} · {price}', 'seats.none': 'No seats selected.',
  'seats.taken': 'taken', 'seats.book': 'Book {n} seats', 'seats.legend': 'Press a seat to select it; taken seats cannot be chosen.',
  'range.title': 'Book the room', 'range.free': 'Free on this day', 'range.start': 'From', 'range.end': 'To',
  'range.book': 'Book this time', 'range.none': 'The room is fully booked on this day.',
  'pay.title': 'Pay with', 'pay.wallet': 'Wallet points', 'pay.card': 'Card', 'pay.card_token': 'Card token',
  'pay.card_hint': 'From the card form of the payment provider (tok_visa in the local cloud)',
  'pay.later': 'Hold only (pay later)', 'pay.confirm': 'Confirm booking', 'pay.total': 'Total: {price}',
  'booking.title': 'Booking {number}', 'booking.status': 'Status', 'booking.when': 'When', 'booking.places': 'Places',
  'booking.price': 'Price', 'booking.paid_with': 'Paid with', 'booking.hold': 'Held until {time}',
  'booking.history': 'History', 'booking.cancel': 'Cancel booking', 'booking.cancel_title': 'Cancel this booking?',
  'booking.refund': 'You will get back {amount} ({percent}% under the policy {policy}).',
  'booking.no_refund_due': 'Nothing was paid, so nothing is refunded.',
  'booking.keep': 'Keep it', 'booking.confirm_cancel': 'Yes, cancel', 'booking.cancelled': 'The booking is cancelled.',
  'booking.watching': 'Waiting for the payment…', 'booking.now': 'The booking is now {status}.',
  'booking.failed_reason': 'Why: {reason}', 'booking.seats': 'Seats',
  'status.PENDING': 'Pending', 'status.CONFIRMED': 'Confirmed', 'status.CANCELLED': 'Cancelled',
  'status.EXPIRED': 'Expired', 'status.FAILED': 'Failed',
  'bookings.title': 'My bookings', 'bookings.empty': 'No bookings yet.', 'bookings.all': 'All',
  'bookings.filter': 'Status', 'more': 'More', 'open': 'Open',
  'wallet.title': 'Wallet', 'wallet.balance': 'Balance', 'wallet.points': '{n} points',
  'wallet.topup': 'Top up', 'wallet.amount': 'Points (1 point = 1 cent)', 'wallet.topped': 'Added {n} points.',
  'wallet.ledger': 'Ledger', 'ledger.TOP_UP': 'Top-up', 'ledger.GRANT': 'Grant', 'ledger.PAYMENT': 'Payment',
  'ledger.REFUND': 'Refund', 'ledger.FORFEIT': 'Forfeit',
  'inbox.title': 'Inbox', 'inbox.empty': 'No messages.', 'inbox.read': 'Mark as read', 'inbox.unread': 'Unread',
  'wr.title': 'Waiting room', 'wr.enter': 'Join the queue', 'wr.position': 'Your place in line',
  'wr.ahead': 'People ahead of you', 'wr.wait': 'Estimated wait', 'wr.next': 'Checking again in {s} s',
  'wr.admitted': 'It is your turn! Your pass is valid until {time}.', 'wr.go': 'Go to booking',
  'wr.state.WAITING': 'Waiting', 'wr.state.ADMITTED': 'Admitted', 'wr.state.EXPIRED': 'Expired',
  'wr.state.SOLD_OUT': 'Sold out', 'wr.state.CLOSED': 'Closed', 'wr.minutes': '{n} min', 'wr.unknown': 'being worked out',
  'admin.title': 'Dashboard', 'admin.venue': 'Venue', 'admin.today': 'Today', 'admin.last7': 'Last 7 days',
  'admin.last30': 'Last 30 days', 'admin.next7': 'Next 7 days', 'admin.bookings': 'Bookings', 'admin.places': 'Places sold',
  'admin.occupancy': 'Occupancy', 'admin.revenue': 'Net revenue', 'admin.per_day': 'Bookings per day (last 30 and next 7 days)',
  'admin.revenue_per_day': 'Net revenue per day (last 30 and next 7 days)', 'admin.heat': 'Occupancy by weekday and hour',
  'admin.busiest': 'Busiest slots', 'admin.emptiest': 'Emptiest slots', 'admin.slot': 'Slot', 'admin.day': 'Day',
  'cat.title': 'Catalog', 'cat.company': 'Company', 'cat.new_venue': 'New venue', 'cat.city': 'City',
  'cat.zone': 'Time zone (IANA, e.g. Asia/Seoul)', 'cat.kind': 'Kind', 'cat.create': 'Create',
  'cat.new_resource': 'New resource', 'cat.unit': 'Unit (minutes)', 'cat.opens': 'Opens', 'cat.closes': 'Closes',
  'cat.unit_price': 'Price per unit (cents)', 'cat.generate': 'Generate slots', 'cat.from': 'From', 'cat.to': 'To',
  'cat.start_times': 'Start times (HH:MM, comma separated)', 'cat.duration': 'Duration (minutes)',
  'cat.capacity': 'Places per slot', 'cat.weekday_price': 'Weekday price (cents)', 'cat.weekend_price': 'Weekend price (cents)',
  'cat.preview': 'Preview', 'cat.preview_result': '{created} new slots would be created, {skipped} exist already.',
  'cat.generated': 'Created {created} slots ({skipped} existed).', 'cat.close': 'Close', 'cat.reopen': 'Reopen',
  'cat.seatmap': 'Seat map', 'cat.slot_id': 'Slot', 'cat.rows': 'Rows (letters, e.g. A-C)', 'cat.per_row': 'Seats per row',
  'cat.tier_price': 'Price per seat (cents)', 'cat.save_seats': 'Save seat map', 'cat.seats_saved': 'The slot now has {n} seats.',
  'cat.exists': 'exists', 'cat.new': 'new', 'cat.status': 'Status', 'cat.changed': 'Saved.',
  'dlq.title': 'Dead-letter queues', 'dlq.queue': 'Queue', 'dlq.depth': 'Messages', 'dlq.show': 'Show',
  'dlq.redrive': 'Redrive', 'dlq.moved': 'Moved {n} messages back to {queue}.', 'dlq.empty': 'Every queue is empty.',
  'act.title': 'Admin activity', 'act.actor': 'Actor', 'act.action': 'Action', 'act.when': 'When', 'act.details': 'Details',
  'act.filter': 'Filter', 'act.empty': 'No activity.',
  'err.network': 'The service could not be reached. Check your connection and try again.',
  'err.generic': 'Something went wrong ({status}). Please try again.',
  'err.Unauthorized': 'Please log in.', 'err.Forbidden': 'You are not allowed to do that.',
  'err.SOLD_OUT': 'Sold out: there are not enough places left.',
};

const ko = {
  brand: '예약', skip: '본문으로 건너뛰기', language: '언어', loading: '불러오는 중…',
  'nav.venues': '장소', 'nav.bookings': '내 예약', 'nav.wallet': '지갑', 'nav.inbox': '알림함',
  'nav.login': '로그인', 'nav.signup': '회원가입', 'nav.logout': '로그아웃', 'nav.admin': '대시보드',
  'nav.catalog': '카탈로그', 'nav.deadletters': '실패 메시지', 'nav.activity': '활동 기록',
  'auth.email': '이메일', 'auth.password': '비밀번호', 'auth.name': '이름', 'auth.phone': '전화번호',
  'auth.phone_hint': '국제 형식, 예: +82 10 1234 5678', 'auth.password_hint': '10~128자: 문자와 숫자 또는 기호',
  'auth.login': '로그인', 'auth.signup': '계정 만들기', 'auth.signed_up': '계정이 만들어졌습니다. 환영합니다!',
  'auth.no_account': '계정이 없으신가요?', 'auth.have_account': '이미 계정이 있으신가요?',
  'auth.expired': '세션이 끝났습니다. 다시 로그인해 주세요.',
  'venues.title': '장소', 'venues.empty': '아직 장소가 없습니다.', 'venue.resources': '예약할 수 있는 것',
  'kind.GOLF_CLUB': '골프장', 'kind.CONCERT_HALL': '공연장', 'kind.COWORKING': '공유 오피스', 'kind.OTHER': '기타',
  'kind.COURSE': '코스', 'kind.PERFORMANCE': '공연', 'kind.ROOM': '회의실',
  'day.date': '날짜', 'day.show': '보기', 'day.none': '이 날에는 예약할 수 있는 것이 없습니다.',
  'day.times': '시간은 장소의 현지 시간입니다 ({zone}).', 'slot.left': '{c}자리 중 {n}자리 남음', 'slot.premium': '프리미엄',
  'slot.quantity': '인원', 'slot.book': '예약', 'slot.seats': '좌석 선택',
  'avail.AVAILABLE': '예약 가능', 'avail.FULLY_BOOKED': '매진', 'avail.CLOSED': '마감',
  'seats.title': '좌석을 고르세요', 'seats.selected': '선택: {list} · {price}', 'seats.none': '선택한 좌석이 없습니다.',
  'seats.taken': '예약됨', 'seats.book': '좌석 {n}개 예약', 'seats.legend': '좌석을 눌러 선택하세요. 예약된 좌석은 고를 수 없습니다.',
  'range.title': '회의실 예약', 'range.free': '이 날 비어 있는 시간', 'range.start': '시작', 'range.end': '종료',
  'range.book': '이 시간 예약', 'range.none': '이 날은 회의실이 모두 예약되었습니다.',
  'pay.title': '결제 수단', 'pay.wallet': '지갑 포인트', 'pay.card': '카드', 'pay.card_token': '카드 토큰',
  'pay.card_hint': '결제사의 카드 입력 양식에서 받은 토큰 (로컬 클라우드에서는 tok_visa)',
  'pay.later': '보류만 (나중에 결제)', 'pay.confirm': '예약 확정', 'pay.total': '합계: {price}',
  'booking.title': '예약 {number}', 'booking.status': '상태', 'booking.when': '일시', 'booking.places': '인원',
  'booking.price': '금액', 'booking.paid_with': '결제 수단', 'booking.hold': '{time}까지 보류',
  'booking.history': '기록', 'booking.cancel': '예약 취소', 'booking.cancel_title': '이 예약을 취소할까요?',
  'booking.refund': '{amount}을(를) 돌려받습니다 (정책 {policy}에 따라 {percent}%).',
  'booking.no_refund_due': '결제된 금액이 없어 환불도 없습니다.',
  'booking.keep': '유지', 'booking.confirm_cancel': '네, 취소합니다', 'booking.cancelled': '예약이 취소되었습니다.',
  'booking.watching': '결제를 기다리는 중…', 'booking.now': '예약 상태: {status}.',
  'booking.failed_reason': '사유: {reason}', 'booking.seats': '좌석',
  'status.PENDING': '대기', 'status.CONFIRMED': '확정', 'status.CANCELLED': '취소됨', 'status.EXPIRED': '만료', 'status.FAILED': '실패',
  'bookings.title': '내 예약', 'bookings.empty': '아직 예약이 없습니다.', 'bookings.all': '전체',
  'bookings.filter': '상태', 'more': '더 보기', 'open': '열기',
  'wallet.title': '지갑', 'wallet.balance': '잔액', 'wallet.points': '{n} 포인트',
  'wallet.topup': '충전', 'wallet.amount': '포인트 (1포인트 = 1센트)', 'wallet.topped': '{n} 포인트를 충전했습니다.',
  'wallet.ledger': '내역', 'ledger.TOP_UP': '충전', 'ledger.GRANT': '지급', 'ledger.PAYMENT': '결제',
  'ledger.REFUND': '환불', 'ledger.FORFEIT': '소멸',
  'inbox.title': '알림함', 'inbox.empty': '메시지가 없습니다.', 'inbox.read': '읽음으로 표시', 'inbox.unread': '읽지 않음',
  'wr.title': '대기실', 'wr.enter': '대기열에 들어가기', 'wr.position': '내 순번', 'wr.ahead': '앞에 있는 사람',
  'wr.wait': '예상 대기 시간', 'wr.next': '{s}초 후 다시 확인', 'wr.admitted': '차례가 되었습니다! 입장권은 {time}까지 유효합니다.',
  'wr.go': '예약하러 가기', 'wr.state.WAITING': '대기 중', 'wr.state.ADMITTED': '입장', 'wr.state.EXPIRED': '만료',
  'wr.state.SOLD_OUT': '매진', 'wr.state.CLOSED': '종료', 'wr.minutes': '{n}분', 'wr.unknown': '계산 중',
  'admin.title': '대시보드', 'admin.venue': '장소', 'admin.today': '오늘', 'admin.last7': '최근 7일', 'admin.last30': '최근 30일',
  'admin.next7': '다음 7일', 'admin.bookings': '예약', 'admin.places': '판매 자리', 'admin.occupancy': '점유율',
  'admin.revenue': '순매출', 'admin.per_day': '일별 예약 (최근 30일과 다음 7일)', 'admin.revenue_per_day': '일별 순매출 (최근 30일과 다음 7일)',
  'admin.heat': '요일·시간대별 점유율', 'admin.busiest': '가장 붐비는 시간', 'admin.emptiest': '가장 한산한 시간',
  'admin.slot': '시간', 'admin.day': '날짜',
  'cat.title': '카탈로그', 'cat.company': '회사', 'cat.new_venue': '새 장소', 'cat.city': '도시',
  'cat.zone': '시간대 (IANA, 예: Asia/Seoul)', 'cat.kind': '종류', 'cat.create': '만들기', 'cat.new_resource': '새 자원',
  'cat.unit': '단위 (분)', 'cat.opens': '여는 시간', 'cat.closes': '닫는 시간', 'cat.unit_price': '단위당 가격 (센트)',
  'cat.generate': '슬롯 만들기', 'cat.from': '시작일', 'cat.to': '종료일', 'cat.start_times': '시작 시간 (HH:MM, 쉼표로 구분)',
  'cat.duration': '길이 (분)', 'cat.capacity': '슬롯당 자리', 'cat.weekday_price': '평일 가격 (센트)',
  'cat.weekend_price': '주말 가격 (센트)', 'cat.preview': '미리 보기',
  'cat.preview_result': '새 슬롯 {created}개가 만들어지고, {skipped}개는 이미 있습니다.',
  'cat.generated': '슬롯 {created}개를 만들었습니다 (이미 있던 것 {skipped}개).', 'cat.close': '마감', 'cat.reopen': '다시 열기',
  'cat.seatmap': '좌석 배치', 'cat.slot_id': '슬롯', 'cat.rows': '열 (문자, 예: A-C)', 'cat.per_row': '열당 좌석',
  'cat.tier_price': '좌석당 가격 (센트)', 'cat.save_seats': '좌석 배치 저장', 'cat.seats_saved': '슬롯의 좌석이 {n}개가 되었습니다.',
  'cat.exists': '있음', 'cat.new': '새로', 'cat.status': '상태', 'cat.changed': '저장했습니다.',
  'dlq.title': '실패 메시지 대기열', 'dlq.queue': '대기열', 'dlq.depth': '메시지', 'dlq.show': '보기', 'dlq.redrive': '다시 보내기',
  'dlq.moved': '{queue}(으)로 메시지 {n}개를 다시 보냈습니다.', 'dlq.empty': '모든 대기열이 비어 있습니다.',
  'act.title': '관리 활동', 'act.actor': '작업자', 'act.action': '작업', 'act.when': '일시', 'act.details': '내용',
  'act.filter': '필터', 'act.empty': '활동이 없습니다.',
  'err.network': '서비스에 연결할 수 없습니다. 연결을 확인하고 다시 시도해 주세요.',
  'err.generic': '문제가 생겼습니다 ({status}). 다시 시도해 주세요.',
  'err.Unauthorized': '로그인해 주세요.', 'err.Forbidden': '이 작업을 할 권한이 없습니다.',
  'err.SOLD_OUT': '매진: 남은 자리가 부족합니다.',
};

const dictionaries = { en, ko };

function initial() {
  const saved = localStorage.getItem('lang');
  if (saved && dictionaries[saved]) return saved;
  return (navigator.language || 'en').toLowerCase().startsWith('ko') ? 'ko' : 'en';
}

let current = initial();

export function lang() { return current; }

export function setLang(code) {
  if (!dictionaries[code]) return;
  current = code;
  localStorage.setItem('lang', code);
  document.documentElement.lang = code;
}

/** The text of `key` with `{name}` placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const text = dictionaries[current][key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}

/** Whether `key` has a text of its own (an error code the app words itself). */
export function has(key) { return key in en; }

document.documentElement.lang = current;
