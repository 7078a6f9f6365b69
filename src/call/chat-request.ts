import { z } from "zod";

/**
 * The OpenAI chat-completions request body (platform.openai.com/docs/api-reference/chat/create),
 * as much of it as Tollgate needs to analyse, price and forward a call. Unknown fields pass
 * through to the upstream untouched.
 */

const TextPart = z.object({ type: z.literal("text"), text: z.string() }).loose();
const ImagePart = z
  .object({ type: z.literal("image_url"), image_url: z.object({ url: z.string().min(1), detail: z.enum(["auto", "low", "high"]).optional() }).loose() })
  .loose();
const OtherPart = z.object({ type: z.string() }).loose();
export const ContentPart = z.union([TextPart, ImagePart, OtherPart]);

export const ChatMessage = z
  .object({
    role: z.enum(["system", "developer", "user", "assistant", "tool", "function"]),
    content: z.union([z.string(), z.array(ContentPart), z.null()]).optional(),
    name: z.string().optional(),
    tool_calls: z.array(z.unknown()).optional(),
    tool_call_id: z.string().optional(),
  })
  .loose();
export type ChatMessage = z.infer<typeof ChatMessage>;

export const ChatRequest = z
  .object({
    model: z.string().min(1).default("auto"),
    messages: z.array(ChatMessage).min(1, "messages must contain at least one message"),
    max_tokens: z.int().positive().optional(),
    max_completion_tokens: z.int().positive().optional(),
    stream: z.boolean().optional(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).loose().nullable().optional(),
    // n > 1 multiplies output tokens; the worst-case price covers exactly one choice.
    n: z.literal(1).optional(),
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().min(0).max(1).optional(),
    tools: z.array(z.object({ type: z.string() }).loose()).optional(),
    tool_choice: z.unknown().optional(),
    response_format: z.object({ type: z.enum(["text", "json_object", "json_schema"]) }).loose().optional(),
  })
  .loose();
export type ChatRequest = z.infer<typeof ChatRequest>;
