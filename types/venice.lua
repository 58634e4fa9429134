---@meta venice
-- LuaLS (lua-language-server) annotations for venice-lua. Add this directory to the language
-- server's library, e.g. in .luarc.json: { "workspace.library": ["path/to/venice-lua/types"] }.
-- Nothing here runs: it only describes `require "venice"` for completion and type checks.
--
-- The namespace functions (client.chat.completions.create, ...) are generated from
-- lua/venice/endpoints.lua by tools/gen-types.lua between the two marker lines below; the rest is
-- written by hand. Every call that reaches the network returns `result` on success and
-- `nil, err` (a venice.Error) on failure; arguments of the wrong Lua type raise at once.

---JSON null, as decoded (and to send): `venice.null`.
---@alias venice.Null lightuserdata

---An upload for a file field: the bytes as a string, an open file, a file by path (streamed), or
---for operations that also take JSON a reference (a URL, a data URL, base64 text, { url }, { base64 }).
---A file on disk, read only when the request is sent: `venice.file(path, { filename, content_type })`.
---@class venice.File
---@field path string
---@field filename? string
---@field content_type? string

---A file field: bytes, an open file, `venice.file(path)`, `{ data|file, filename?, content_type? }`,
---or (operations that also take JSON) a URL, base64 text, `{ url }` or `{ base64 }`. A plain
---`{ path = ... }` table is refused: only venice.file reads from disk.
---@alias venice.Upload string|file*|venice.File|{ data?: string, file?: file*, url?: string, base64?: string, filename?: string, type?: string, content_type?: string }

---The callback form: passing a function as the last argument runs the call as a task and
---returns the task at once; the function gets `(err, result)` when the call ends.
---@alias venice.Callback fun(err: venice.Error|nil, result: any)

---@class venice.ClientOptions
---@field api_key? string|fun(): string the API key, or a function returning it (default: $VENICE_API_KEY)
---@field base_url? string default: $VENICE_BASE_URL or "https://api.venice.ai/api/v1"
---@field timeout? number seconds for a whole non-streaming request (default 600)
---@field connect_timeout? number seconds to establish the connection (default 10)
---@field idle_timeout? number seconds without a byte on an open stream (default 120)
---@field max_retries? integer retries after a failure that may pass: 408, 409, 429, 5xx, a failed connection (default 2)
---@field headers? table<string, string> extra headers on every request
---@field proxy? string proxy URL (libcurl's CURLOPT_PROXY)
---@field noproxy? string hosts that bypass the proxy
---@field ca_file? string CA bundle file
---@field ca_path? string CA certificate directory
---@field insecure? boolean skip TLS verification (testing only)
---@field max_response_bytes? integer cap on a buffered response body (default 64 MiB)
---@field max_event_bytes? integer cap on one server-sent event (default 16 MiB)
---@field max_buffered_bytes? integer unread stream events held before the transfer pauses (default 4 MiB)
---@field log? fun(line: string, fields: table) one line per response and failure, with fields { event, attempt, status, elapsed, method, url, error?, wait? } (never the key); $VENICE_LOG=debug logs to stderr
---@field user_agent? string replaces the User-Agent header
---@field requests_per_minute? number client-side rate limit
---@field max_concurrent? integer client-side cap on requests in flight
---@field http_version? "1.1"|"2" forces one (default: HTTP/2 over https when the server offers it)
---@field max_connections? integer connections the Lua state's pool keeps open (default 64; shared by all clients)
---@field idle_connection_seconds? integer a pooled connection idle longer is not reused (default 300)

---Per-request options, the argument after `params`.
---@class venice.RequestOptions
---@field timeout? number
---@field connect_timeout? number
---@field idle_timeout? number
---@field max_retries? integer
---@field http_version? "1.1"|"2"
---@field headers? table<string, string> extra headers for this request
---@field idempotency_key? string sent as Idempotency-Key (one is made for retried POSTs)
---@field output? string a file path: a binary body is streamed into it and the result is a venice.FileResult
---@field accept? string replaces the Accept header
---@field max_response_bytes? integer
---@field encoding? "json"|"multipart" (operations with file fields that also take JSON) force the form
---@field on_chunk? fun(chunk: table) (streams) called for each event; the call returns a venice.Task
---@field on_done? fun(err: venice.Error|nil, final: table|nil) (streams) called once at the end

---@class venice.StreamOptions: venice.RequestOptions
---@field max_buffered_bytes? integer overrides the client's bound on unread events
---@field ignore_events? string[] event types the decoded reads skip, e.g. { "ping" }
---@field on_chunk? fun(chunk: table)
---@field on_done? fun(err: venice.Error|nil, final: table|nil) the collected response, or the error

---@class venice.RawRequest
---@field method? "GET"|"POST"|"PUT"|"PATCH"|"DELETE"|string default "GET"
---@field path string below base_url, e.g. "/chat/completions"
---@field query? table<string, any> query string parameters
---@field body? table|string a table is sent as JSON, a string as it is
---@field headers? table<string, string>
---@field stream? boolean true: the result is a venice.Stream
---@field output? string stream a binary body into this file
---@field result? "json"|"binary"|"text"|"auto" how to read the response (default "auto": by Content-Type)
---@field timeout? number
---@field max_retries? integer
---@field idempotency_key? string

---A binary result (audio, an image, a video, CSV) held in memory.
---@class venice.BinaryResult
---@field data string the bytes
---@field content_type string e.g. "audio/mpeg"

---A binary result streamed to the file named by opts.output.
---@class venice.FileResult
---@field path string
---@field bytes integer
---@field content_type string

---@class venice.RateLimit
---@field limit_requests? integer
---@field remaining_requests? integer
---@field reset_requests? number seconds until the request window resets
---@field limit_tokens? integer
---@field remaining_tokens? integer
---@field reset_tokens? number seconds until the token window resets

---A model's deprecation notice (Venice's x-venice-model-deprecation-* headers).
---@class venice.Deprecation
---@field warning string
---@field date? string the date the model goes away
---@field deprecated? boolean
---@field replacement? string the model to move to

---The HTTP facts of a result, a stream or an error: venice.meta(x).
---@class venice.Meta
---@field status integer
---@field headers table<string, string> lower-case names
---@field request_id? string
---@field rate_limit venice.RateLimit
---@field balance_remaining? number
---@field deprecation? venice.Deprecation the model is scheduled for deprecation
---@field warnings? string[] the warning lines of this response (a deprecated model)
---@field content_violation? boolean
---@field blurred? boolean
---@field model? { id?: string, name?: string }
---@field next_cursor? string
---@field pagination? { page?: integer, limit?: integer, total?: integer, total_pages?: integer }
---@field elapsed? number seconds the request took
---@field attempts? integer the times the request was sent (1 + retries)
---@field http_version? "1.1"|"2" the HTTP version the response came over

---Every failure. `tostring(err)` gives one line such as
---`venice: RateLimitError (429): Too many requests (retry after 2s)`. Never holds the API key.
---@class venice.Error
---@field name string the class: "RateLimitError", ...
---@field type? string "rate_limit_error", ... (the class's type, or the API's)
---@field message string
---@field status? integer the HTTP status, when there was one
---@field code? string the API's error code (context.errorCode or error.code), or the SDK's: "missing_api_key", "stream_cut", "malformed_response", "cancelled", "max_turns", ...
---@field param? string the parameter at fault
---@field details? any the API's details (validation issues), or the SDK's context
---@field request_id? string
---@field retry_after? number seconds, from Retry-After
---@field headers? table<string, string> the response headers (lower-case names)
---@field body? string the raw response body (capped)
---@field location? string (a 3xx answer, never followed) its Location header
---@field timeout? "timeout"|"connect_timeout"|"idle_timeout" (TimeoutError) which limit fired
---@field attempts? integer the times the request was sent (1 + retries)
---@field partial? table (a started stream's errors) what arrived before the failure, shaped as Stream:collect() returns it
local Error = {}

---Whether this error is of `class` or of a class under it: `err:is(venice.errors.APIError)`.
---@param class venice.ErrorClass
---@return boolean
function Error:is(class) end

---An error class; calling it makes an error of that class (for tests and wrappers):
---`venice.errors.NotFoundError { message = "...", status = 404 }`.
---@class venice.ErrorClass
---@field name string
---@field type? string
---@field parent? venice.ErrorClass
---@overload fun(fields?: string|{ message?: string, status?: integer, code?: string, param?: string, details?: any }): venice.Error
local ErrorClass = {}

---The same as calling the class: `venice.errors.NotFoundError:new { message = "..." }`.
---@param fields? string|{ message?: string, status?: integer, code?: string, param?: string, details?: any }
---@return venice.Error
function ErrorClass:new(fields) end

---@class venice.Errors
---@field Error venice.ErrorClass the base of all
---@field APIError venice.ErrorClass the base of every HTTP-status error
---@field ValidationError venice.ErrorClass 400, 422, and parameters rejected before sending
---@field AuthenticationError venice.ErrorClass 401, or no API key (code "missing_api_key")
---@field PaymentRequiredError venice.ErrorClass 402
---@field PermissionError venice.ErrorClass 403
---@field NotFoundError venice.ErrorClass 404
---@field ConflictError venice.ErrorClass 409
---@field PayloadTooLargeError venice.ErrorClass 413
---@field RateLimitError venice.ErrorClass 429
---@field ServerError venice.ErrorClass 5xx
---@field NetworkError venice.ErrorClass DNS, refused, reset, TLS
---@field TimeoutError venice.ErrorClass any of the three timeouts (a NetworkError)
---@field StreamError venice.ErrorClass a malformed stream, an error event inside it, a cut stream
---@field TeeError venice.ErrorClass a failed attestation, decryption or signature check (err.check names it)

---A stream of decoded server-sent events. `for chunk in stream do ... end` raises the
---venice.Error on a failure (chunks already yielded stay delivered); on Lua 5.4 a `break` out of
---the loop closes the connection.
---@class venice.Stream
local Stream = {}

---The next decoded event, nil at the end, or nil, err.
---@return table|nil chunk
---@return venice.Error|nil err
function Stream:read() end

---Reads to the end and returns the whole stream as one response shaped like the non-streaming
---one (content concatenated, tool-call deltas merged, finish_reason, usage). On failure
---err.partial holds what arrived before it, in the same shape.
---@return table|nil response
---@return venice.Error|nil err
function Stream:collect() end

---A raw server-sent event.
---@class venice.RawEvent
---@field event string the event type ("message" when none was given)
---@field data string the data as sent (lines joined with "\n")
---@field id string the last event id ("" when none)

---Iterates the raw events, [DONE] included: `for ev in stream:events() do ... end`. No JSON
---decoding, no error events; raises when the connection is cut.
---@return fun(): venice.RawEvent|nil
function Stream:events() end

---Closes the connection at once; idempotent (collecting the stream closes it too).
function Stream:close() end

---The HTTP facts (waits for the response headers when the stream has not started).
---@return venice.Meta|nil
function Stream:meta() end

---A coroutine run by the scheduler: venice.spawn(fn), or the callback form of any call.
---@class venice.Task
---@field status "running"|"done"
---@field results? { n: integer, [integer]: any } what the function returned, once done
---@field on_done? fun(task: venice.Task) called once when it finishes
local Task = {}

---Whether it has finished.
---@return boolean
function Task:done() end

---The task's return values (or nil, err when it raised); waits for it when it has not finished.
---@return any ...
function Task:result() end

---Aborts its transfer at once; the task finishes with an Error of code "cancelled". Called from
---inside the task's own function, that function ends there (cancel does not return).
---@return boolean cancelled false when it had already finished
function Task:cancel() end

---A handle on a libuv loop driving the tasks (venice.use_uv).
---@class venice.UvHandle
---@field uv table the luv module
local UvHandle = {}

---Detaches: the tasks go back to venice.run / venice.poll.
function UvHandle:close() end

---Options of a pager: the request options, plus max_pages.
---@class venice.PageOptions: venice.RequestOptions
---@field max_pages? integer stop after this many pages

---Every page of a paginated operation, one request at a time (client.<ns>.<fn>_pages, client.pages).
---`for page in pager do ... end` raises the venice.Error on a failure.
---@class venice.Pager
local Pager = {}

---The next page (the decoded result; venice.meta works on it), nil at the end, or nil, err.
---@return table|nil page
---@return venice.Error|nil err
function Pager:next() end

---An iterator of item, page over every item of every page (raises on a failure).
---@return fun(): any, table
function Pager:items() end

---Every item of every page.
---@return any[]|nil items
---@return venice.Error|nil err
function Pager:all() end

---Options of video.wait and audio.wait (and of queue_and_wait, with the request options of queue).
---@class venice.WaitOptions
---@field output? string stream the media into this file (else it is returned in memory)
---@field interval? number seconds between polls
---@field timeout? number seconds for the whole wait (then a TimeoutError, code "job_timeout")
---@field on_progress? fun(status: table, info: { polls: integer, elapsed: number, fraction?: number })
---@field model? string needed when waiting on a bare queue_id
---@field delete_media_on_completion? boolean passed to retrieve
---@field complete? boolean call complete once the media is safe
---@field headers? table<string, string>
---@field max_retries? integer
---@field max_response_bytes? integer
---@field request_timeout? number seconds for each poll

---{{{ generated by tools/gen-types.lua from lua/venice/endpoints.lua: do not edit by hand

---The namespaces of a client (and of the module, bound to venice.default()).
---@class venice.Namespaces
---@field api_keys venice.ns.api_keys
---@field audio venice.ns.audio
---@field augment venice.ns.augment
---@field billing venice.ns.billing
---@field characters venice.ns.characters
---@field chat venice.ns.chat
---@field crypto venice.ns.crypto
---@field embeddings venice.ns.embeddings
---@field images venice.ns.images
---@field models venice.ns.models
---@field responses venice.ns.responses
---@field video venice.ns.video
---@field x402 venice.ns.x402
---@field request fun(request: venice.RawRequest, callback?: venice.Callback): any, venice.Error|nil

---@class venice.ns.api_keys
local ns_api_keys = {}

---@class venice.ns.audio
local ns_audio = {}

---@class venice.ns.augment
local ns_augment = {}

---@class venice.ns.billing
local ns_billing = {}

---@class venice.ns.characters
local ns_characters = {}

---@class venice.ns.chat
---@field completions venice.ns.chat.completions
local ns_chat = {}

---@class venice.ns.chat.completions
local ns_chat_completions = {}

---@class venice.ns.crypto
local ns_crypto = {}

---@class venice.ns.embeddings
local ns_embeddings = {}

---@class venice.ns.images
local ns_images = {}

---@class venice.ns.models
local ns_models = {}

---@class venice.ns.responses
local ns_responses = {}

---@class venice.ns.video
local ns_video = {}

---@class venice.ns.x402
local ns_x402 = {}

-- api_keys.create
---@class venice.params.ApiKeysCreate
---@field apiKeyType "INFERENCE"|"ADMIN"
---@field consumptionLimit? table<string, any>
---@field description string
---@field expiresAt? string
---@field limitPeriod? "EPOCH"|"MONTH"|"LIFETIME"
---@field modelPrivacy? "ALL"|"PRIVATE_TEXT"|"PRIVATE_ONLY"
---@field [string] any any other field is sent as given

---POST /api_keys: Create a new API key.
---@param params venice.params.ApiKeysCreate the request body
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.ApiKeysCreate, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.ApiKeysCreate, callback: venice.Callback): venice.Task
function ns_api_keys.create(params, opts) end

-- api_keys.create_web3_key
---@class venice.params.ApiKeysCreateWeb3Key
---@field address string
---@field apiKeyType "INFERENCE"|"ADMIN"
---@field consumptionLimit? table<string, any>
---@field description? string
---@field expiresAt? string
---@field limitPeriod? "EPOCH"|"MONTH"|"LIFETIME"
---@field modelPrivacy? "ALL"|"PRIVATE_TEXT"|"PRIVATE_ONLY"
---@field signature string
---@field token string
---@field [string] any any other field is sent as given

---POST /api_keys/generate_web3_key: Authenticates a wallet holding sVVV and creates an API key.
---@param params venice.params.ApiKeysCreateWeb3Key the request body
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.ApiKeysCreateWeb3Key, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.ApiKeysCreateWeb3Key, callback: venice.Callback): venice.Task
function ns_api_keys.create_web3_key(params, opts) end

-- api_keys.delete
---DELETE /api_keys: Delete an API key.
---@param id string|number (sent in the query string)
---@param params? nil this operation takes no parameters
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(id: string|number, params: nil, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(id: string|number, params: nil, callback: venice.Callback): venice.Task
function ns_api_keys.delete(id, params, opts) end

-- api_keys.get
---GET /api_keys/{id}: Get API key details by ID.
---@param id string|number (fills {id} in the path)
---@param params? nil this operation takes no parameters
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(id: string|number, params: nil, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(id: string|number, params: nil, callback: venice.Callback): venice.Task
function ns_api_keys.get(id, params, opts) end

-- api_keys.list
---GET /api_keys: Return a list of API keys.
---@param params? nil this operation takes no parameters
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: nil, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: nil, callback: venice.Callback): venice.Task
function ns_api_keys.list(params, opts) end

-- api_keys.rate_limit_logs
---GET /api_keys/rate_limits/log: Returns the last 50 rate limits that the account exceeded.
---@param params? nil this operation takes no parameters
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: nil, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: nil, callback: venice.Callback): venice.Task
function ns_api_keys.rate_limit_logs(params, opts) end

-- api_keys.rate_limits
---GET /api_keys/rate_limits: Return details about user balances and rate limits.
---@param params? nil this operation takes no parameters
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: nil, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: nil, callback: venice.Callback): venice.Task
function ns_api_keys.rate_limits(params, opts) end

-- api_keys.update
---@class venice.params.ApiKeysUpdate
---@field consumptionLimit? table<string, any>
---@field description? string
---@field expiresAt? string|venice.Null
---@field id string
---@field limitPeriod? "EPOCH"|"MONTH"|"LIFETIME"
---@field modelPrivacy? "ALL"|"PRIVATE_TEXT"|"PRIVATE_ONLY"
---@field [string] any any other field is sent as given

---PATCH /api_keys: Update an existing API key.
---@param params venice.params.ApiKeysUpdate the request body
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.ApiKeysUpdate, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.ApiKeysUpdate, callback: venice.Callback): venice.Task
function ns_api_keys.update(params, opts) end

-- api_keys.web3_key
---GET /api_keys/generate_web3_key: Returns the token required to generate an API key via a wallet.
---@param params? nil this operation takes no parameters
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: nil, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: nil, callback: venice.Callback): venice.Task
function ns_api_keys.web3_key(params, opts) end

-- audio.complete
---@class venice.params.AudioComplete
---@field model string
---@field queue_id string
---@field [string] any any other field is sent as given

---POST /audio/complete: Mark an audio generation request as complete and clean up the generated media from storage.
---@param params venice.params.AudioComplete the request body
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.AudioComplete, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.AudioComplete, callback: venice.Callback): venice.Task
function ns_audio.complete(params, opts) end

-- audio.queue
---@class venice.params.AudioQueue
---@field force_instrumental? boolean
---@field language_code? string
---@field loop? boolean
---@field lyrics_optimizer? boolean
---@field lyrics_prompt? string
---@field model string
---@field prompt string
---@field speed? number
---@field voice? string
---@field [string] any any other field is sent as given

---POST /audio/queue: Queue a new audio generation request.
---@param params venice.params.AudioQueue the request body
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.AudioQueue, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.AudioQueue, callback: venice.Callback): venice.Task
function ns_audio.queue(params, opts) end

-- audio.quote
---@class venice.params.AudioQuote
---@field character_count? integer
---@field model string
---@field [string] any any other field is sent as given

---POST /audio/quote: Get a price quote for audio generation with the specified parameters.
---@param params venice.params.AudioQuote the request body
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.AudioQuote, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.AudioQuote, callback: venice.Callback): venice.Task
function ns_audio.quote(params, opts) end

-- audio.retrieve
---@class venice.params.AudioRetrieve
---@field delete_media_on_completion? boolean
---@field model string
---@field queue_id string
---@field [string] any any other field is sent as given

---POST /audio/retrieve: Retrieve the status or result of an audio generation request.
---@param params venice.params.AudioRetrieve the request body
---@param opts? venice.RequestOptions
---@return table|venice.BinaryResult|venice.FileResult|nil result decoded JSON, or bytes (by the response's Content-Type)
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.AudioRetrieve, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.AudioRetrieve, callback: venice.Callback): venice.Task
function ns_audio.retrieve(params, opts) end

-- audio.speech
---@class venice.params.AudioSpeech
---@field input string
---@field language? string
---@field model? "tts-kokoro"|"tts-qwen3-0-6b"|"tts-qwen3-1-7b"|"tts-xai-v1"|"tts-inworld-1-5-max"|"tts-chatterbox-hd"|"tts-orpheus"|"tts-elevenlabs-turbo-v2-5"|"tts-minimax-speech-02-hd"|"tts-gemini-3-1-flash"|"tts-gradium-v1"
---@field prompt? string
---@field response_format? "mp3"|"opus"|"aac"|"flac"|"wav"|"pcm"
---@field speed? number
---@field streaming? boolean
---@field temperature? number
---@field top_p? number
---@field voice? string
---@field [string] any any other field is sent as given

---POST /audio/speech: Converts text to speech using various voice models and formats.
---@param params venice.params.AudioSpeech the request body
---@param opts? venice.RequestOptions
---@return venice.BinaryResult|venice.FileResult|nil result the bytes, or the file written with opts.output
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.AudioSpeech, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.AudioSpeech, callback: venice.Callback): venice.Task
function ns_audio.speech(params, opts) end

-- audio.transcriptions
---@class venice.params.AudioTranscriptions
---@field file? venice.Upload
---@field language? string
---@field model? "nvidia/parakeet-tdt-0.6b-v3"|"openai/whisper-large-v3"|"fal-ai/wizper"|"elevenlabs/scribe-v2"|"stt-xai-v1"
---@field response_format? "json"|"text"
---@field timestamps? boolean
---@field [string] any any other field is sent as given

---POST /audio/transcriptions: Transcribes audio into the input language.
---@param params? venice.params.AudioTranscriptions the request form (multipart)
---@param opts? venice.RequestOptions
---@return table|venice.BinaryResult|venice.FileResult|nil result decoded JSON, or bytes (by the response's Content-Type)
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.AudioTranscriptions|nil, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.AudioTranscriptions|nil, callback: venice.Callback): venice.Task
function ns_audio.transcriptions(params, opts) end

-- audio.voices
---@class venice.params.AudioVoices
---@field file? venice.Upload
---@field model? "tts-chatterbox-hd"|"tts-minimax-speech-02-hd"
---@field [string] any any other field is sent as given

---POST /audio/voices: Clone a voice from an audio sample.
---@param params? venice.params.AudioVoices the request form (multipart)
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.AudioVoices|nil, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.AudioVoices|nil, callback: venice.Callback): venice.Task
function ns_audio.voices(params, opts) end

-- augment.scrape
---@class venice.params.AugmentScrape
---@field url string
---@field [string] any any other field is sent as given

---POST /augment/scrape: Scrape a web page and return its content as markdown.
---@param params venice.params.AugmentScrape the request body
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.AugmentScrape, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.AugmentScrape, callback: venice.Callback): venice.Task
function ns_augment.scrape(params, opts) end

-- augment.search
---@class venice.params.AugmentSearch
---@field limit? integer
---@field query string
---@field search_provider? "google"|"brave"
---@field [string] any any other field is sent as given

---POST /augment/search: Search the web and return results directly.
---@param params venice.params.AugmentSearch the request body
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.AugmentSearch, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.AugmentSearch, callback: venice.Callback): venice.Task
function ns_augment.search(params, opts) end

-- augment.text_parser
---@class venice.params.AugmentTextParser
---@field file venice.Upload
---@field response_format? "json"|"text"
---@field [string] any any other field is sent as given

---POST /augment/text-parser: Extracts text from a document file.
---@param params venice.params.AugmentTextParser the request form (multipart)
---@param opts? venice.RequestOptions
---@return table|venice.BinaryResult|venice.FileResult|nil result decoded JSON, or bytes (by the response's Content-Type)
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.AugmentTextParser, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.AugmentTextParser, callback: venice.Callback): venice.Task
function ns_augment.text_parser(params, opts) end

-- billing.balance
---GET /billing/balance: Get current balance information for the authenticated user.
---@param params? nil this operation takes no parameters
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: nil, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: nil, callback: venice.Callback): venice.Task
function ns_billing.balance(params, opts) end

-- billing.usage
---GET /billing/usage: Sunset: answers every request with 410; use billing.usage_history.
---@deprecated
---@param params? nil this operation takes no parameters
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: nil, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: nil, callback: venice.Callback): venice.Task
function ns_billing.usage(params, opts) end

-- billing.usage_analytics
---@class venice.params.BillingUsageAnalytics
---@field endDate? string
---@field lookback? string
---@field startDate? string
---@field [string] any any other field is sent as given

---GET /billing/usage-analytics: Aggregated usage analytics by date, model and API key (beta).
---@param params? venice.params.BillingUsageAnalytics the request query
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.BillingUsageAnalytics|nil, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.BillingUsageAnalytics|nil, callback: venice.Callback): venice.Task
function ns_billing.usage_analytics(params, opts) end

-- billing.usage_history
---@class venice.params.BillingUsageHistory
---@field currency? "USD"|"DIEM"|"BUNDLED_CREDITS"
---@field cursor? string
---@field endTimestamp? string
---@field pageSize? integer
---@field startTimestamp? string
---@field [string] any any other field is sent as given

---GET /billing/usage-history: Billing usage entries in timestamp order, cursor-paginated, as JSON or CSV.
---@param params? venice.params.BillingUsageHistory the request query
---@param opts? venice.RequestOptions
---@return table|venice.BinaryResult|venice.FileResult|nil result decoded JSON, or bytes (by the response's Content-Type)
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.BillingUsageHistory|nil, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.BillingUsageHistory|nil, callback: venice.Callback): venice.Task
function ns_billing.usage_history(params, opts) end

---Every page of GET /billing/usage-history, one request at a time (by a cursor): a venice.Pager.
---@param params? venice.params.BillingUsageHistory the params of the first page
---@param opts? venice.PageOptions
---@return venice.Pager pager
function ns_billing.usage_history_pages(params, opts) end

-- characters.get
---GET /characters/{slug}: Get a single character by its slug (preview).
---@param slug string|number (fills {slug} in the path)
---@param params? nil this operation takes no parameters
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(slug: string|number, params: nil, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(slug: string|number, params: nil, callback: venice.Callback): venice.Task
function ns_characters.get(slug, params, opts) end

-- characters.list
---@class venice.params.CharactersList
---@field categories? any[]
---@field isAdult? "true"|"false"
---@field isPro? "true"|"false"
---@field isWebEnabled? "true"|"false"
---@field limit? integer
---@field modelId? any[]
---@field offset? integer|venice.Null
---@field search? string
---@field sortBy? "featured"|"highestRating"|"highlyRated"|"highlyRatedAndRecent"|"imports"|"mostRecent"|"ratingCount"
---@field sortOrder? "asc"|"desc"
---@field tags? any[]
---@field [string] any any other field is sent as given

---GET /characters: List characters, filtered by search, tags, categories or model, sorted (preview).
---@param params? venice.params.CharactersList the request query
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.CharactersList|nil, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.CharactersList|nil, callback: venice.Callback): venice.Task
function ns_characters.list(params, opts) end

---Every page of GET /characters, one request at a time (by an offset): a venice.Pager.
---@param params? venice.params.CharactersList the params of the first page
---@param opts? venice.PageOptions
---@return venice.Pager pager
function ns_characters.list_pages(params, opts) end

-- characters.reviews
---@class venice.params.CharactersReviews
---@field page? integer
---@field pageSize? integer
---@field [string] any any other field is sent as given

---GET /characters/{slug}/reviews: Public reviews of a character, paginated (preview).
---@param slug string|number (fills {slug} in the path)
---@param params? venice.params.CharactersReviews the request query
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(slug: string|number, params: venice.params.CharactersReviews|nil, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(slug: string|number, params: venice.params.CharactersReviews|nil, callback: venice.Callback): venice.Task
function ns_characters.reviews(slug, params, opts) end

---Every page of GET /characters/{slug}/reviews, one request at a time (by page numbers): a venice.Pager.
---@param slug string|number
---@param params? venice.params.CharactersReviews the params of the first page
---@param opts? venice.PageOptions
---@return venice.Pager pager
function ns_characters.reviews_pages(slug, params, opts) end

-- chat.completions.create
---@class venice.params.ChatCompletionsCreate
---@field fallbacks? any[]
---@field frequency_penalty? number
---@field include? any[]
---@field logprobs? boolean
---@field max_completion_tokens? integer
---@field max_temp? number
---@field max_tokens? integer
---@field messages any[]
---@field metadata? table<string, any>
---@field min_p? number
---@field min_temp? number
---@field model string
---@field n? integer
---@field parallel_tool_calls? boolean
---@field presence_penalty? number
---@field prompt_cache_key? string
---@field prompt_cache_retention? "default"|"extended"|"24h"
---@field reasoning? table<string, any>
---@field reasoning_effort? "none"|"minimal"|"low"|"medium"|"high"|"xhigh"|"max"
---@field repetition_penalty? number
---@field response_format? table<string, any>
---@field seed? integer
---@field stop? any[]|venice.Null
---@field stop_token_ids? any[]
---@field store? boolean
---@field stream? boolean
---@field stream_options? table<string, any>
---@field temperature? number
---@field text? table<string, any>
---@field tools? any[]|venice.Null
---@field top_k? integer
---@field top_logprobs? integer
---@field top_p? number
---@field user? string
---@field venice_parameters? table<string, any>
---@field verbosity? "low"|"medium"|"high"|"auto"
---@field [string] any any other field is sent as given

---POST /chat/completions: Run text inference based on the supplied parameters.
---@param params venice.params.ChatCompletionsCreate the request body
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.ChatCompletionsCreate, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.ChatCompletionsCreate, callback: venice.Callback): venice.Task
function ns_chat_completions.create(params, opts) end

---POST /chat/completions with `stream = true`: the response as a stream of decoded events.
---@param params venice.params.ChatCompletionsCreate the request body (`stream` is set for you)
---@param opts? venice.RequestOptions on_chunk/on_done run it as a task (returns the task)
---@return venice.Stream stream read it, iterate it, or collect it; failures come from it
---@overload fun(params: venice.params.ChatCompletionsCreate, opts: venice.StreamOptions): venice.Task
function ns_chat_completions.stream(params, opts) end

-- crypto.networks
---GET /crypto/rpc/networks: List supported crypto RPC networks.
---@param params? nil this operation takes no parameters
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: nil, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: nil, callback: venice.Callback): venice.Task
function ns_crypto.networks(params, opts) end

-- crypto.rpc
---POST /crypto/rpc/{network}: Proxy a JSON-RPC request to a supported blockchain.
---@param network string|number (fills {network} in the path)
---@param params table the request body
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(network: string|number, params: table, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(network: string|number, params: table, callback: venice.Callback): venice.Task
function ns_crypto.rpc(network, params, opts) end

-- embeddings.create
---@class venice.params.EmbeddingsCreate
---@field dimensions? integer
---@field encoding_format? "float"|"base64"
---@field input any[]
---@field model string
---@field user? string
---@field [string] any any other field is sent as given

---POST /embeddings: Create embeddings for the supplied input.
---@param params venice.params.EmbeddingsCreate the request body
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.EmbeddingsCreate, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.EmbeddingsCreate, callback: venice.Callback): venice.Task
function ns_embeddings.create(params, opts) end

-- images.edit
---@class venice.params.ImagesEdit
---@field aspect_ratio? "auto"|"1:1"|"3:2"|"16:9"|"21:9"|"9:16"|"2:3"|"3:4"|"4:5"
---@field disable_prompt_optimization_thinking? boolean
---@field enhance_prompt? boolean
---@field image venice.Upload
---@field model? string
---@field modelId? "firered-image-edit"|"qwen-edit-uncensored"|"grok-imagine-edit"|"grok-imagine-quality-edit"|"grok-imagine-image-2-0-edit"|"qwen-image-2-edit"|"qwen-image-2-pro-edit"|"wan-2-7-pro-edit"|"flux-2-max-edit"|"gpt-image-2-edit"|"gpt-image-1-5-edit"|"nano-banana-2-edit"|"nano-banana-pro-edit"|"nano-banana-2-lite-edit"|"luma-uni-1-edit"|"luma-uni-1-max-edit"|"seedream-v5-lite-edit"|"seedream-v5-pro-edit"|"seedream-v4-edit"|"qwen-image-3-edit"|"qwen-image-3-pro-edit"
---@field output_format? "jpeg"|"png"|"webp"
---@field prompt string
---@field resolution? string
---@field safe_mode? boolean
---@field [string] any any other field is sent as given

---POST /image/edit: Edit or modify an image based on the supplied prompt.
---@param params venice.params.ImagesEdit the request form (multipart)
---@param opts? venice.RequestOptions
---@return venice.BinaryResult|venice.FileResult|nil result the bytes, or the file written with opts.output
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.ImagesEdit, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.ImagesEdit, callback: venice.Callback): venice.Task
function ns_images.edit(params, opts) end

-- images.generate
---@class venice.params.ImagesGenerate
---@field aspect_ratio? string
---@field cfg_scale? number
---@field disable_prompt_optimization_thinking? boolean
---@field embed_exif_metadata? boolean
---@field enable_web_search? boolean
---@field enhance_prompt? boolean
---@field format? "jpeg"|"png"|"webp"
---@field height? integer
---@field hide_watermark? boolean
---@field lora_strength? integer
---@field model string
---@field negative_prompt? string
---@field prompt string
---@field quality? "low"|"medium"|"high"
---@field resolution? string
---@field return_binary? boolean
---@field safe_mode? boolean
---@field seed? integer
---@field steps? integer
---@field style_preset? string
---@field style_references? any[]
---@field variants? integer
---@field width? integer
---@field [string] any any other field is sent as given

---POST /image/generate: Generate an image based on input parameters.
---@param params venice.params.ImagesGenerate the request body
---@param opts? venice.RequestOptions
---@return table|venice.BinaryResult|venice.FileResult|nil result decoded JSON, or bytes (by the response's Content-Type)
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.ImagesGenerate, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.ImagesGenerate, callback: venice.Callback): venice.Task
function ns_images.generate(params, opts) end

-- images.generations
---@class venice.params.ImagesGenerations
---@field background? "transparent"|"opaque"|"auto"|venice.Null
---@field model? string
---@field moderation? "low"|"auto"|venice.Null
---@field n? integer|venice.Null
---@field output_compression? integer|venice.Null
---@field output_format? "jpeg"|"png"|"webp"
---@field prompt string
---@field quality? "auto"|"high"|"medium"|"low"|"hd"|"standard"|venice.Null
---@field response_format? "b64_json"|"url"|venice.Null
---@field size? "auto"|"256x256"|"512x512"|"1024x1024"|"1536x1024"|"1024x1536"|"1792x1024"|"1024x1792"|venice.Null
---@field style? "vivid"|"natural"|venice.Null
---@field user? string
---@field [string] any any other field is sent as given

---POST /images/generations: Generate an image based on input parameters using an OpenAI compatible endpoint.
---@param params venice.params.ImagesGenerations the request body
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.ImagesGenerations, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.ImagesGenerations, callback: venice.Callback): venice.Task
function ns_images.generations(params, opts) end

-- images.multi_edit
---@class venice.params.ImagesMultiEdit
---@field aspect_ratio? "auto"|"1:1"|"3:2"|"16:9"|"21:9"|"9:16"|"2:3"|"3:4"|"4:5"
---@field disable_prompt_optimization_thinking? boolean
---@field enhance_prompt? boolean
---@field images venice.Upload|venice.Upload[]
---@field modelId? "firered-image-edit"|"qwen-edit-uncensored"|"grok-imagine-edit"|"grok-imagine-quality-edit"|"grok-imagine-image-2-0-edit"|"qwen-image-2-edit"|"qwen-image-2-pro-edit"|"wan-2-7-pro-edit"|"flux-2-max-edit"|"gpt-image-2-edit"|"gpt-image-1-5-edit"|"nano-banana-2-edit"|"nano-banana-pro-edit"|"nano-banana-2-lite-edit"|"seedream-v5-lite-edit"|"seedream-v5-pro-edit"|"seedream-v4-edit"|"qwen-image-3-edit"|"qwen-image-3-pro-edit"
---@field output_format? "jpeg"|"png"|"webp"
---@field prompt string
---@field quality? "low"|"medium"|"high"
---@field resolution? string
---@field safe_mode? boolean
---@field [string] any any other field is sent as given

---POST /image/multi-edit: Edit or modify an image using multiple layered inputs.
---@param params venice.params.ImagesMultiEdit the request form (multipart)
---@param opts? venice.RequestOptions
---@return venice.BinaryResult|venice.FileResult|nil result the bytes, or the file written with opts.output
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.ImagesMultiEdit, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.ImagesMultiEdit, callback: venice.Callback): venice.Task
function ns_images.multi_edit(params, opts) end

-- images.remove_background
---@class venice.params.ImagesRemoveBackground
---@field image? venice.Upload
---@field image_url? string
---@field [string] any any other field is sent as given

---POST /image/background-remove: Remove the background from an image using AI.
---@param params? venice.params.ImagesRemoveBackground the request form (multipart)
---@param opts? venice.RequestOptions
---@return venice.BinaryResult|venice.FileResult|nil result the bytes, or the file written with opts.output
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.ImagesRemoveBackground|nil, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.ImagesRemoveBackground|nil, callback: venice.Callback): venice.Task
function ns_images.remove_background(params, opts) end

-- images.styles
---GET /image/styles: List available image styles that can be used with the generate API.
---@param params? nil this operation takes no parameters
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: nil, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: nil, callback: venice.Callback): venice.Task
function ns_images.styles(params, opts) end

-- images.upscale
---@class venice.params.ImagesUpscale
---@field creativity? number|venice.Null
---@field image venice.Upload
---@field scale? number
---@field [string] any any other field is sent as given

---POST /image/upscale: Upscale an image to a higher resolution.
---@param params venice.params.ImagesUpscale the request form (multipart)
---@param opts? venice.RequestOptions
---@return venice.BinaryResult|venice.FileResult|nil result the bytes, or the file written with opts.output
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.ImagesUpscale, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.ImagesUpscale, callback: venice.Callback): venice.Task
function ns_images.upscale(params, opts) end

-- models.compatibility_mapping
---@class venice.params.ModelsCompatibilityMapping
---@field type? "asr"|"embedding"|"image"|"music"|"text"|"tts"|"upscale"|"inpaint"|"video"
---@field [string] any any other field is sent as given

---GET /models/compatibility_mapping: Returns a list of model compatibility mappings and the associated model.
---@param params? venice.params.ModelsCompatibilityMapping the request query
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.ModelsCompatibilityMapping|nil, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.ModelsCompatibilityMapping|nil, callback: venice.Callback): venice.Task
function ns_models.compatibility_mapping(params, opts) end

-- models.list
---@class venice.params.ModelsList
---@field type? "asr"|"embedding"|"image"|"music"|"text"|"tts"|"upscale"|"inpaint"|"video"|"all"|"code"
---@field [string] any any other field is sent as given

---GET /models: List the models available through the API, optionally filtered by type.
---@param params? venice.params.ModelsList the request query
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.ModelsList|nil, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.ModelsList|nil, callback: venice.Callback): venice.Task
function ns_models.list(params, opts) end

-- models.traits
---@class venice.params.ModelsTraits
---@field type? "asr"|"embedding"|"image"|"music"|"text"|"tts"|"upscale"|"inpaint"|"video"
---@field [string] any any other field is sent as given

---GET /models/traits: Returns a list of model traits and the associated model.
---@param params? venice.params.ModelsTraits the request query
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.ModelsTraits|nil, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.ModelsTraits|nil, callback: venice.Callback): venice.Task
function ns_models.traits(params, opts) end

-- responses.create
---@class venice.params.ResponsesCreate
---@field fallbacks? any[]
---@field include? any[]
---@field input any[]
---@field max_output_tokens? integer
---@field model string
---@field reasoning? table<string, any>|venice.Null
---@field stream? boolean
---@field temperature? number
---@field tools? any[]
---@field top_p? number
---@field venice_parameters? table<string, any>
---@field web_search? boolean
---@field [string] any any other field is sent as given

---POST /responses: Create a response (Alpha).
---@param params venice.params.ResponsesCreate the request body
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.ResponsesCreate, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.ResponsesCreate, callback: venice.Callback): venice.Task
function ns_responses.create(params, opts) end

---POST /responses with `stream = true`: the response as a stream of decoded events.
---@param params venice.params.ResponsesCreate the request body (`stream` is set for you)
---@param opts? venice.RequestOptions on_chunk/on_done run it as a task (returns the task)
---@return venice.Stream stream read it, iterate it, or collect it; failures come from it
---@overload fun(params: venice.params.ResponsesCreate, opts: venice.StreamOptions): venice.Task
function ns_responses.stream(params, opts) end

-- video.complete
---@class venice.params.VideoComplete
---@field model string
---@field queue_id string
---@field [string] any any other field is sent as given

---POST /video/complete: Delete a video generation request from storage after it has been successfully downloaded.
---@param params venice.params.VideoComplete the request body
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.VideoComplete, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.VideoComplete, callback: venice.Callback): venice.Task
function ns_video.complete(params, opts) end

-- video.queue
---@class venice.params.VideoQueue
---@field aspect_ratio? "1:1"|"2:3"|"3:2"|"3:4"|"4:3"|"4:5"|"5:4"|"9:16"|"9:21"|"16:9"|"21:9"|"adaptive"|"auto"
---@field audio? boolean
---@field audio_url? string
---@field consents? table<string, any>
---@field duration "1s"|"2s"|"3s"|"4s"|"5s"|"6s"|"7s"|"8s"|"9s"|"10s"|"11s"|"12s"|"13s"|"14s"|"15s"|"16s"|"17s"|"18s"|"19s"|"20s"|"21s"|"22s"|"23s"|"24s"|"25s"|"26s"|"27s"|"28s"|"29s"|"30s"|"-1"|"1 gen"|"auto"|"Auto"
---@field elements? any[]
---@field end_image_url? string
---@field image_url? string
---@field keyframes? any[]
---@field model string
---@field negative_prompt? string
---@field omni_reference_task_type? "auto"|"reference"|"edit"|"extend"
---@field prompt string
---@field reference_audio_urls? any[]
---@field reference_document_urls? any[]
---@field reference_image_urls? any[]
---@field reference_video_urls? any[]
---@field resolution? "256p"|"360p"|"480p"|"540p"|"580p"|"720p"|"1080p"|"1440p"|"2160p"|"4k"|"2x"|"4x"|"2K"|"768P"|"true_1080p"
---@field scene_image_urls? any[]
---@field upscale_factor? 1|2|4
---@field video_url? string
---@field [string] any any other field is sent as given

---POST /video/queue: Queue a new video generation request.
---@param params venice.params.VideoQueue the request body
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.VideoQueue, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.VideoQueue, callback: venice.Callback): venice.Task
function ns_video.queue(params, opts) end

-- video.quote
---@class venice.params.VideoQuote
---@field aspect_ratio? "1:1"|"2:3"|"3:2"|"3:4"|"4:3"|"4:5"|"5:4"|"9:16"|"9:21"|"16:9"|"21:9"|"adaptive"|"auto"
---@field audio? boolean
---@field duration "1s"|"2s"|"3s"|"4s"|"5s"|"6s"|"7s"|"8s"|"9s"|"10s"|"11s"|"12s"|"13s"|"14s"|"15s"|"16s"|"17s"|"18s"|"19s"|"20s"|"21s"|"22s"|"23s"|"24s"|"25s"|"26s"|"27s"|"28s"|"29s"|"30s"|"-1"|"1 gen"|"auto"|"Auto"
---@field model string
---@field reference_video_total_duration? number
---@field resolution? "256p"|"360p"|"480p"|"540p"|"580p"|"720p"|"1080p"|"1440p"|"2160p"|"4k"|"2x"|"4x"|"2K"|"768P"|"true_1080p"
---@field upscale_factor? 1|2|4
---@field video_url? string
---@field [string] any any other field is sent as given

---POST /video/quote: Quote a video generation request based on pricing inputs.
---@param params venice.params.VideoQuote the request body
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.VideoQuote, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.VideoQuote, callback: venice.Callback): venice.Task
function ns_video.quote(params, opts) end

-- video.retrieve
---@class venice.params.VideoRetrieve
---@field delete_media_on_completion? boolean
---@field model string
---@field queue_id string
---@field [string] any any other field is sent as given

---POST /video/retrieve: Retrieve a video generation result.
---@param params venice.params.VideoRetrieve the request body
---@param opts? venice.RequestOptions
---@return table|venice.BinaryResult|venice.FileResult|nil result decoded JSON, or bytes (by the response's Content-Type)
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.VideoRetrieve, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.VideoRetrieve, callback: venice.Callback): venice.Task
function ns_video.retrieve(params, opts) end

-- video.transcriptions
---@class venice.params.VideoTranscriptions
---@field response_format? "json"|"text"
---@field url string
---@field [string] any any other field is sent as given

---POST /video/transcriptions: Transcribes video audio from a public URL.
---@param params venice.params.VideoTranscriptions the request body
---@param opts? venice.RequestOptions
---@return table|venice.BinaryResult|venice.FileResult|nil result decoded JSON, or bytes (by the response's Content-Type)
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.VideoTranscriptions, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.VideoTranscriptions, callback: venice.Callback): venice.Task
function ns_video.transcriptions(params, opts) end

-- x402.balance
---GET /x402/balance/{walletAddress}: Get the x402 credit balance for a wallet address.
---@param walletAddress string|number (fills {walletAddress} in the path)
---@param params? nil this operation takes no parameters
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(walletAddress: string|number, params: nil, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(walletAddress: string|number, params: nil, callback: venice.Callback): venice.Task
function ns_x402.balance(walletAddress, params, opts) end

-- x402.top_up
---@class venice.params.X402TopUp
---@field [string] any any other field is sent as given

---POST /x402/top-up: Top up the x402 credit balance with a PAYMENT-SIGNATURE header.
---@param params? venice.params.X402TopUp the request body
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(params: venice.params.X402TopUp|nil, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(params: venice.params.X402TopUp|nil, callback: venice.Callback): venice.Task
function ns_x402.top_up(params, opts) end

-- x402.transactions
---@class venice.params.X402Transactions
---@field limit? integer
---@field offset? integer|venice.Null
---@field [string] any any other field is sent as given

---GET /x402/transactions/{walletAddress}: Get paginated x402 transaction history for a wallet address.
---@param walletAddress string|number (fills {walletAddress} in the path)
---@param params? venice.params.X402Transactions the request query
---@param opts? venice.RequestOptions
---@return table|nil result the decoded JSON
---@return venice.Error|nil err why it failed
---@overload fun(walletAddress: string|number, params: venice.params.X402Transactions|nil, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
---@overload fun(walletAddress: string|number, params: venice.params.X402Transactions|nil, callback: venice.Callback): venice.Task
function ns_x402.transactions(walletAddress, params, opts) end

---Every page of GET /x402/transactions/{walletAddress}, one request at a time (by an offset): a venice.Pager.
---@param walletAddress string|number
---@param params? venice.params.X402Transactions the params of the first page
---@param opts? venice.PageOptions
---@return venice.Pager pager
function ns_x402.transactions_pages(walletAddress, params, opts) end

---}}} end of the generated part

-- Helpers above the endpoints (docs/helpers.md).

---Writes the images of a result (images.generate's base64 `images`, images.generations' `data`,
---or a binary answer) to files named with the extension of each image's own format. A folder
---gets <id>.<ext> (numbered when several); a file path is used as it is for one image.
---@param result table the result of an image operation
---@param dir_or_path string an existing folder, a path ending in "/", or a file path
---@return string[]|nil paths the files written
---@return venice.Error|nil err a ValidationError (no image, bad base64: param names the item) or an Error (code "image_file")
function ns_images.save(result, dir_or_path) end

---Every page of GET /api_keys/rate_limits/log (one page: the API sends the last 50 entries).
---@param params? table
---@param opts? venice.PageOptions
---@return venice.Pager pager
function ns_api_keys.rate_limit_logs_pages(params, opts) end

---Polls video.retrieve until the media arrives (a download_url is fetched without the API key).
---@param job table|string what video.queue returned ({ model, queue_id, download_url? }), or a queue_id (then opts.model)
---@param opts? venice.WaitOptions
---@return venice.BinaryResult|venice.FileResult|nil media
---@return venice.Error|nil err the retrieve error, or a TimeoutError (code "job_timeout")
---@overload fun(job: table|string, opts: venice.WaitOptions|nil, callback: venice.Callback): venice.Task
function ns_video.wait(job, opts) end

---video.queue, then video.wait.
---@param params venice.params.VideoQueue
---@param opts? venice.WaitOptions|venice.RequestOptions
---@return venice.BinaryResult|venice.FileResult|nil media
---@return venice.Error|nil err
---@overload fun(params: venice.params.VideoQueue, opts: venice.WaitOptions|nil, callback: venice.Callback): venice.Task
function ns_video.queue_and_wait(params, opts) end

---Polls audio.retrieve until the media arrives.
---@param job table|string what audio.queue returned, or a queue_id (then opts.model)
---@param opts? venice.WaitOptions
---@return venice.BinaryResult|venice.FileResult|nil media
---@return venice.Error|nil err
---@overload fun(job: table|string, opts: venice.WaitOptions|nil, callback: venice.Callback): venice.Task
function ns_audio.wait(job, opts) end

---audio.queue, then audio.wait.
---@param params venice.params.AudioQueue
---@param opts? venice.WaitOptions|venice.RequestOptions
---@return venice.BinaryResult|venice.FileResult|nil media
---@return venice.Error|nil err
---@overload fun(params: venice.params.AudioQueue, opts: venice.WaitOptions|nil, callback: venice.Callback): venice.Task
function ns_audio.queue_and_wait(params, opts) end

---A tool for chat.run: `fn(args, ctx)` returns the tool message's content (a string, or any
---value encoded as JSON).
---@class venice.Tool
---@field name? string (in a list; the key in a map)
---@field description? string
---@field parameters? table a JSON schema
---@field strict? boolean
---@field fn fun(args: table, ctx: { name: string, id: string, client: venice.Client, messages: table[] }): any

---@class venice.params.ChatRun: venice.params.ChatCompletionsCreate
---@field tools? table<string, venice.Tool>|venice.Tool[] tools with their Lua functions
---@field max_turns? integer requests at most (default 8)
---@field on_chunk? fun(chunk: table) stream every turn
---@field on_tool_call? fun(name: string, args: table, id: string)
---@field on_tool_result? fun(name: string, content: string, id: string)

---The tool loop: sends the tools, runs the Lua function of each tool call, sends the results
---back, and repeats until the model answers. The result also has `messages` (the whole
---exchange) and `turns`.
---@param params venice.params.ChatRun
---@param opts? venice.RequestOptions
---@return table|nil result the final response, plus .messages and .turns
---@return venice.Error|nil err code "max_turns" when the model still wanted tools
---@overload fun(params: venice.params.ChatRun, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
function ns_chat.run(params, opts) end

---@class venice.params.ChatParse: venice.params.ChatCompletionsCreate
---@field schema table the JSON schema the answer must match
---@field name? string default "response"
---@field description? string
---@field strict? boolean default true

---Structured output: asks for JSON matching `schema`, decodes it and checks it.
---@param params venice.params.ChatParse
---@param opts? venice.RequestOptions
---@return table|nil object the decoded answer
---@return venice.Error|nil err a ValidationError with code "schema_mismatch", "invalid_json" or "refusal"
---@overload fun(params: venice.params.ChatParse, opts: venice.RequestOptions|nil, callback: venice.Callback): venice.Task
function ns_chat.parse(params, opts) end

---@class venice.ConversationOptions
---@field client? venice.Client default venice.default()
---@field model string
---@field system? string the system prompt
---@field character_slug? string
---@field venice_parameters? table
---@field params? table other request fields (temperature, max_tokens, ...)
---@field tools? table<string, venice.Tool>|venice.Tool[] each turn then runs the tool loop
---@field max_turns? integer
---@field context_tokens? integer the window to fit (default: from models.list, else 8192)
---@field reserve_tokens? integer room kept for the answer
---@field messages? table[] a history to start from

---A chat that keeps its history, trimmed to the model's context window.
---@class venice.Conversation
---@field client venice.Client
---@field model string
---@field system? string
---@field messages table[] the history (without the system prompt)
---@field last_response? table
---@field trimmed integer messages dropped so far
---@field tokens? integer the estimate last sent
local Conversation = {}

---Sends `text` with the history; keeps and returns the answer's text. opts.on_text streams it.
---@param text string
---@param opts? venice.RequestOptions|{ on_text?: fun(piece: string, chunk: table) }
---@return string|nil answer
---@return venice.Error|nil err (the history is left as it was)
function Conversation:say(text, opts) end

---Like say, streaming each piece of the answer to on_text.
---@param text string
---@param on_text fun(piece: string, chunk: table)
---@param opts? venice.RequestOptions
---@return string|nil answer
---@return venice.Error|nil err
function Conversation:stream(text, on_text, opts) end

---Forgets the history (the system prompt stays).
function Conversation:reset() end

---Drops the oldest turns until the history fits; returns the number of messages dropped.
---@return integer
function Conversation:trim() end

---The context window and where it came from.
---@return integer tokens
---@return string source
function Conversation:context_tokens() end

---Writes the conversation as JSON (not the client nor the tools' functions).
---@param path string
---@return true|nil ok
---@return venice.Error|nil err
function Conversation:save(path) end

---@class venice.ConversationModule
---@field Conversation table the venice.Conversation method table
---@overload fun(options: venice.ConversationOptions): venice.Conversation
local ConversationModule = {}

---@param options venice.ConversationOptions
---@return venice.Conversation
function ConversationModule.new(options) end

---Reads a conversation written by conv:save; opts gives the client, the tools, and overrides.
---@param path string
---@param opts? venice.ConversationOptions|{ client?: venice.Client }
---@return venice.Conversation|nil conversation
---@return venice.Error|nil err code "conversation_file"
function ConversationModule.load(path, opts) end

---The estimated number of tokens of one message.
---@param message table
---@return integer
function ConversationModule.estimate(message) end

---@class venice.Citation
---@field title? string
---@field url? string
---@field content? string
---@field date? string

---@class venice.TeeReport
---@field ok boolean true when every check passed (a failure raises instead)
---@field level "baseline"|"full" the level verified
---@field checks { name: string, ok: boolean, message?: string, detail?: table, skipped?: boolean }[] in order
---@field signing_address string lower-case 0x hex
---@field public_key string the 65-byte key the quote binds
---@field td_attributes string hex
---@field mrtd string hex, reported (not compared)
---@field rtmr string[] RTMR0-3 in hex, reported (not compared)
---@field fmspc? string full level: the platform's FMSPC (hex)
---@field root_ca? string full level: the root the PCK chain leads to
---@field tcb_status? string full level: "UpToDate", ... or "not checked" (collateral = false)
---@field qe_tcb_status? string
---@field tdx_module_tcb_status? string
---@field tcb_date? string
---@field advisory_ids? string[]

---@class venice.TeeVerifyOptions
---@field nonce string the 64 hex characters sent with the request
---@field level? "baseline"|"full" default "baseline"
---@field collateral? table|false Intel's collateral (as a PCS/PCCS returns it); without it the TCB status is skipped
---@field now? number unix seconds for every validity window (default: the clock)
---@field root_ca? string PEM of another root than the pinned Intel SGX Root CA (tests)
---@field allow_tcb? string[] TCB statuses accepted besides UpToDate and SWHardeningNeeded
---@field measurements? table<string, string> reference hex values: mrtd, rtmr0..rtmr3, mrconfigid, ...
---@field client? venice.Client to fetch the collateral when none is given
---@field pccs_url? string where to fetch it (default Intel's PCS)

---@class venice.TeeAttestation: table
---@field model string
---@field nonce string the nonce echoed
---@field signing_address string 0x and 40 hex: the Keccak-256 address of the attested key
---@field report? venice.TeeReport the verification report (absent with level = false)

---@class venice.TeeAttestationParams
---@field model string
---@field nonce? string 32 bytes as 64 hex characters (default: 32 fresh bytes from the OS)
---@field level? "baseline"|"full"|false default "baseline"; false: no verification
---@field verify? table further options of venice.tee.verify (root_ca, collateral, now, ...)

---@class venice.TeeSessionParams: venice.TeeAttestationParams
---@field max_age? number seconds an attestation is used before attesting again (default 600)
---@field allow_plaintext? boolean accept unencrypted chunks (default false: a TeeError)

---An end-to-end encrypted chat with one attested model; its private key stays in C.
---@class venice.TeeSession
---@field model string
---@field attestation venice.TeeAttestation the attestation in use
---@field report venice.TeeReport
---@field public_key string the session's public key, 130 lowercase hex characters
---@field model_public_key string the attested key messages are encrypted to
---@field max_age number
local TeeSession = {}

---Encrypts the user and system messages, streams the answer, decrypting each chunk as it arrives.
---@param params table the parameters of chat.completions.stream (no tools, web search, uploads)
---@param opts? venice.StreamOptions
---@return venice.Stream
function TeeSession:stream(params, opts) end

---The answer collected from a stream, as one chat completion.
---@param params table
---@param opts? venice.RequestOptions|venice.Callback
---@param callback? venice.Callback
---@return table|nil result
---@return venice.Error|nil err
function TeeSession:create(params, opts, callback) end

---Attests again now.
---@return true|nil ok
---@return venice.Error|nil err
function TeeSession:attest() end

---Wipes the session's private key; idempotent.
function TeeSession:close() end

---@class venice.TeeSignatureReport
---@field verified boolean
---@field signer? string the recovered address (0x and 40 hex)
---@field address? string the attested signing_address
---@field reason? string why a record was not verified

---@class venice.ns.tee
local ns_tee = {}

---The attestation of the enclave running a model, verified (baseline by default).
---@param params venice.TeeAttestationParams
---@param opts? venice.RequestOptions|venice.Callback
---@param callback? venice.Callback the callback form: returns a venice.Task at once
---@return venice.TeeAttestation|nil attestation
---@return venice.Error|nil err a TeeError (err.check) when a check fails
function ns_tee.attestation(params, opts, callback) end

---An E2EE session: attests, then encrypts and decrypts every request of the session.
---@param params venice.TeeSessionParams
---@param opts? venice.RequestOptions|venice.Callback
---@param callback? venice.Callback the callback form: returns a venice.Task at once
---@return venice.TeeSession|nil session
---@return venice.Error|nil err
function ns_tee.session(params, opts, callback) end

---Venice's signature record of one completion.
---@param params { model: string, request_id: string }
---@param opts? venice.RequestOptions|venice.Callback
---@param callback? venice.Callback the callback form: returns a venice.Task at once
---@return table|nil record
---@return venice.Error|nil err
function ns_tee.signature(params, opts, callback) end

---@class venice.TeeModule: venice.ns.tee
---@field DEFAULT_MAX_AGE number
---@field Session table the venice.TeeSession method table
local TeeModule = {}

---The model's end-to-end encryption key in an attestation: the key whose Keccak-256 address is
---the attested signing_address.
---@param attestation table
---@return string|nil key the 65-byte uncompressed public key
---@return string|venice.Error hex the key as the attestation gives it, or the TeeError
function TeeModule.model_key(attestation) end

---Verifies a saved attestation offline; raises a TeeError naming the failed check.
---@param attestation table
---@param opts venice.TeeVerifyOptions
---@return venice.TeeReport
function TeeModule.verify(attestation, opts) end

---Checks a signature record against an attestation's signing_address; raises a TeeError on a
---mismatch, returns verified = false for a record in an unknown shape.
---@param sig table
---@param attestation table
---@return venice.TeeSignatureReport
function TeeModule.verify_signature(sig, attestation) end

-- The module and clients.

---A client: the namespaces bound to one API key, base URL and set of options.
---@class venice.Client: venice.Namespaces
---@field pages fun(name: string, ...): venice.Pager a pager for any operation by its Lua name ("characters.reviews"), then its arguments
---@field tee venice.ns.tee private inference: attestations, E2EE sessions, signatures
local Client = {}

---A client that shares this one's connections, key and retry state, with some options replaced
---(`timeout`, `max_retries`, `headers` merged over this client's, ...); openai-python's
---with_options. `client:with_options { timeout = 5 }` and `client.with_options { ... }` both work.
---@param options venice.ClientOptions
---@return venice.Client
function Client:with_options(options) end

---@class venice: venice.Namespaces
---@field version string the SDK's version, e.g. "0.1.0"
---@field null venice.Null JSON null
---@field errors venice.Errors the error classes
---@field Error venice.ErrorClass the base class (venice.errors.Error)
---@field Stream table the venice.Stream metatable
---@field json { encode: (fun(v: any): string|nil, venice.Error|nil), decode: (fun(s: string): any, string|nil), null: venice.Null } the SDK's JSON codec (integers stay integers)
---@field base64 { encode: (fun(s: string): string), decode: (fun(s: string): string|nil, venice.Error|nil) } RFC 4648 base64 in C; decode is strict (standard alphabet, padding, no whitespace) and gives nil and a ValidationError (code "invalid_base64", offset) otherwise
---@field conversation venice.ConversationModule
---@field tee venice.TeeModule private inference (docs/tee.md)
local venice = {}

---A client. Every option has a default; the key comes from $VENICE_API_KEY when not given.
---Raises on options of the wrong type or a malformed base_url.
---@param options? venice.ClientOptions
---@return venice.Client
function venice.new(options) end

---The client the module's own namespaces use (`venice.chat.completions.create { ... }`), built on
---first use from $VENICE_API_KEY and $VENICE_BASE_URL.
---@return venice.Client
function venice.default() end

---The HTTP facts of a result, a stream or an HTTP error; nil for anything else.
---@param x table|venice.Stream|venice.Error
---@return venice.Meta|nil
function venice.meta(x) end

---Runs fn(...) as a task: inside it every request yields while it waits for the network, so
---many run at once. Returns the task after running it up to its first wait.
---@param fn fun(...): ...
---@param ... any
---@return venice.Task
function venice.spawn(fn, ...) end

---Runs every task until all are done (blocking).
function venice.run() end

---One step: drives the network for at most `timeout` seconds (default 0: no wait) and resumes
---the tasks whose wait is over. For a game loop or an editor timer.
---@param timeout? number seconds
---@return integer running the number of tasks still running
function venice.poll(timeout) end

---Sleeps: yields inside a task (the others go on), drives the network outside one.
---@param seconds number
function venice.sleep(seconds) end

---Lets a libuv loop drive the tasks: in Neovim `venice.use_uv(vim.uv or vim.loop)`, and the
---editor never blocks on the network. opts.schedule(fn) runs callbacks outside libuv's fast
---context (default vim.schedule in Neovim).
---@param uv table the luv module
---@param opts? { schedule?: fun(fn: function) }
---@return venice.UvHandle
function venice.use_uv(uv, opts) end

---A file field's value that uploads the file at `path` (streamed from disk by libcurl when the
---request is sent). The only way a request reads a file by its path. Raises on arguments of the
---wrong type.
---@param path string
---@param opts? { filename?: string, content_type?: string }
---@return venice.File
function venice.file(path, opts) end

---Marks a table as a JSON array, so that an empty one is sent as [] (not {}).
---@generic T: table
---@param t? T
---@return T
function venice.array(t) end

---The web search results of a response, a chunk, a stream (after its first chunk), a chat.run
---result or a conversation; always a list, empty when there are none.
---@param x any
---@return venice.Citation[]
function venice.citations(x) end

return venice
