/*
 * msg_ja.c: the Japanese of every error a listener answers (issue 18,
 * item 4). Clerks and researchers read Japanese first: each JSON error
 * carries "error_ja" next to "error". A reason is found whole, then by its
 * fixed beginning (reasons that name a value), else the status's own
 * Japanese is given, so no answer is ever without one.
 */
#include <stddef.h>
#include <string.h>

#include "msg_ja.h"
#include "sk.h"

static const struct {
	const char *en, *ja;
} whole[] = {
	{ "unknown dataset", "指定されたデータセットはありません。URL の "
	    "データセット名を確認してください。" },
	{ "this municipality may not upload to this dataset",
	    "この団体はこのデータセットに送信できません。" },
	{ "Content-Length required", "Content-Length ヘッダが必要です"
	    "（curl -T で送信してください）。" },
	{ "Transfer-Encoding (chunked upload) is not supported; send "
	    "Content-Length", "分割転送（chunked）は使えません。"
	    "Content-Length を付けて送信してください。" },
	{ "larger than this dataset's size limit",
	    "ファイルがこのデータセットの上限サイズを超えています。" },
	{ "malformed Content-Digest", "Content-Digest ヘッダの形式が"
	    "正しくありません（sha-256=:BASE64: の形）。" },
	{ "Content-Digest too long", "Content-Digest ヘッダが長すぎます。" },
	{ "Content-Digest does not match the body; nothing was kept",
	    "Content-Digest と受信した内容が一致しません。ファイルは保存して"
	    "いません。転送途中の破損が考えられます。再送してください。" },
	{ "could not start storing", "保存を開始できませんでした。"
	    "しばらくしてから再送してください。" },
	{ "could not store", "保存できませんでした。しばらくしてから再送して"
	    "ください。" },
	{ "disk full", "ゲートウェイの保存領域が不足しています。管理者に"
	    "連絡してください。" },
	{ "body too slow or stalled", "送信が遅すぎるか途中で止まりました。"
	    "ファイルは保存していません。回線を確認して再送してください。" },
	{ "not enough free disk space above the configured reserve",
	    "ゲートウェイの空き容量が不足しています。管理者に連絡して"
	    "ください。ファイルは保存していません。" },
	{ "too many uploads in progress; try again shortly",
	    "同時の送信が多すぎます。しばらくしてから再送してください。" },
	{ "too many connections; try again shortly",
	    "接続が混み合っています。しばらくしてから再送してください。" },
	{ "the audit log cannot be written; all work is refused until an "
	    "operator fixes it", "監査ログに書き込めないため、すべての処理を"
	    "停止しています。管理者に連絡してください。" },
	{ "the audit log cannot be written", "監査ログに書き込めないため、"
	    "処理を停止しています。管理者に連絡してください。" },
	{ "this certificate is not a known municipality",
	    "この証明書は登録された団体のものではありません。" },
	{ "this certificate is not a known recipient",
	    "この証明書は登録された提供先のものではありません。" },
	{ "the certificate names no identity",
	    "証明書に識別子（urn:sekisho:）がありません。" },
	{ "source address is outside this municipality's networks",
	    "送信元アドレスがこの団体の登録ネットワークの外です。" },
	{ "source address is outside this recipient's networks",
	    "送信元アドレスがこの提供先の登録ネットワークの外です。" },
	{ "only the vault may use this listener",
	    "この窓口は保管サーバ専用です。" },
	{ "source address is not the vault's",
	    "送信元アドレスが保管サーバのものではありません。" },
	{ "this listener accepts no request body",
	    "この窓口は要求本文を受け付けません。" },
	{ "the range starts past the end", "指定された範囲がファイルの末尾を"
	    "超えています。" },
	{ "a correction must differ from the upload it replaces",
	    "訂正ファイルが訂正対象と同じ内容です。" },
	{ "no such release", "指定された提供データはありません。" },
	{ "this release is gone", "この提供データは提供期間の終了または"
	    "取り下げにより消去されました。" },
	{ "this release was already disposed of",
	    "この提供データは既に消去されています。" },
	{ "no downloads of this release are left",
	    "この提供データのダウンロード回数の上限に達しました。" },
	{ "no such pending upload", "指定された受信データはありません。" },
	{ "stored copy unreadable", "保存データを読み出せません。管理者に"
	    "連絡してください。" },
	{ "the stored copy cannot be read", "保存データを読み出せません。"
	    "管理者に連絡してください。" },
	{ "malformed path", "URL の形式が正しくありません。" },
	{ "a path segment is longer than 255 bytes",
	    "URL の一部が長すぎます（255 バイトまで）。" },
	/* Resuming a cut upload (issue 18, item 6). */
	{ "body too slow or stalled; what came is held for resuming from "
	    "Upload-Offset", "送信が遅すぎるか途中で止まりました。受付はして"
	    "いません。受け取った分は保持しているので、Upload-Offset の位置から"
	    "続きを送ってください（curl -C 位置 -T）。" },
	{ "nothing of this file is held for resuming (never cut, not resumed "
	    "in time, or the gateway restarted): send it whole, without "
	    "Content-Range", "このファイルの続きを送る元が保持されていません"
	    "（途中で切れていない、保持時間が過ぎた、またはゲートウェイが再起動"
	    "した）。-C を付けずに最初から送ってください。" },
	{ "nothing of this file is held for resuming",
	    "このファイルの途中まで受け取った分は保持されていません。" },
	{ "this is not the length of the upload that was cut",
	    "途中で切れた送信とファイルの大きさが違います。同じファイルを"
	    "送ってください。" },
	{ "Content-Range does not start where the held part ends "
	    "(Upload-Offset)", "続きの開始位置が違います。Upload-Offset の"
	    "位置から送ってください。" },
	{ "a Content-Digest other than the cut upload's",
	    "途中で切れた送信と Content-Digest が違います。同じファイルを"
	    "送ってください。" },
	{ "a Sekisho-Replaces other than the cut upload's",
	    "途中で切れた送信と Sekisho-Replaces が違います。" },
	/* WebDAV clients (item 7). */
	{ "a WebDAV request body is at most 64 KiB",
	    "WebDAV の要求本文が大きすぎます（64 KiB まで）。" },
	{ "a WebDAV path takes no query",
	    "WebDAV の URL に「?」以降は使えません。" },
	{ "WebDAV is spoken on /v1/uploads/ only",
	    "WebDAV は /v1/uploads/ の下でだけ使えます。" },
	{ "no dataset this municipality may upload to has this name",
	    "この団体が送信できるデータセットに、この名前のものはありません。" },
	{ "this municipality has no upload of this name to this dataset",
	    "この団体がこのデータセットに送ったファイルに、この名前のものは"
	    "ありません。" },
	{ "this dataset's folder exists already; upload into it with PUT",
	    "このデータセットのフォルダは既にあります。その中へファイルを"
	    "送ってください。" },
	{ "folders are the site's datasets; none can be made",
	    "フォルダはデータセットごとに決まっていて、新しくは作れません。" },
	{ "Transfer-Encoding is not supported; send Content-Length",
	    "分割転送（chunked）は使えません。Content-Length を付けてください。" },
};

static const struct {
	const char *prefix, *ja;
} starts[] = {
	{ "invalid file name", "ファイル名が使えません。255 バイト以内の "
	    "UTF-8 で、制御文字・見えない文字・書字方向の制御文字、"
	    "「/」「\\」「..」やそれに似た文字を含まない名前にしてください。" },
	{ "Sekisho-Replaces names no earlier upload", "Sekisho-Replaces で"
	    "指定した受付番号は、この団体がこのデータセットに送ったものでは"
	    "ありません。" },
	{ "Sekisho-Replaces", "Sekisho-Replaces には以前の受付番号（英数字）"
	    "を指定してください。" },
	{ "the endpoints are", "この URL またはメソッドは使えません。" },
	{ "a release id is", "提供データの番号の形式が正しくありません。" },
	{ "download limit", "ダウンロード量の上限に達しました。しばらくして"
	    "から再試行してください。" },
	{ "Content-Range must be", "Content-Range の形式が違います。"
	    "「bytes 開始-終了/全体の大きさ」で、保持分の末尾からファイルの"
	    "最後までを送ってください（curl -C 位置 -T）。" },
};

static const struct {
	int status;
	const char *ja;
} by_status[] = {
	{ 400, "要求の形式が正しくありません。" },
	{ 403, "この操作は許可されていません。" },
	{ 404, "指定されたものはありません。" },
	{ 405, "このメソッドは使えません。" },
	{ 408, "送信が時間内に終わりませんでした。再送してください。" },
	{ 409, "既存のデータと矛盾するため受け付けられません。" },
	{ 410, "このデータは既に消去されています。" },
	{ 411, "Content-Length ヘッダが必要です。" },
	{ 413, "大きすぎるため受け付けられません。" },
	{ 414, "URL が長すぎます。" },
	{ 416, "指定された範囲が正しくありません。" },
	{ 417, "Expect ヘッダには 100-continue だけが使えます。" },
	{ 422, "内容を確認できないため受け付けられません。" },
	{ 429, "上限に達しました。しばらくしてから再試行してください。" },
	{ 431, "ヘッダが大きすぎるか多すぎます。" },
	{ 500, "ゲートウェイ内部の障害です。管理者に連絡してください。" },
	{ 501, "この機能には対応していません。" },
	{ 503, "一時的に受け付けられません。しばらくしてから再試行して"
	    "ください。" },
	{ 507, "ゲートウェイの保存領域が不足しています。管理者に連絡して"
	    "ください。" },
};

const char *
msg_ja(int status, const char *en)
{
	size_t i;

	for (i = 0; en != NULL && i < SK_ARRAY_LEN(whole); i++)
		if (strcmp(en, whole[i].en) == 0)
			return whole[i].ja;
	for (i = 0; en != NULL && i < SK_ARRAY_LEN(starts); i++)
		if (strncmp(en, starts[i].prefix, strlen(starts[i].prefix)) == 0)
			return starts[i].ja;
	for (i = 0; i < SK_ARRAY_LEN(by_status); i++)
		if (by_status[i].status == status)
			return by_status[i].ja;
	return status >= 500 ? "ゲートウェイ側の障害です。管理者に連絡して"
	    "ください。" : "要求を受け付けられません。";
}
