package chat

// JinjaSource is the Jinja chat_template equivalent of each shipped
// template: rendered by the Hugging Face engine with bos_token and
// eos_token set to the tokenizer's BOS/EOS spellings, it gives the string
// of RenderText (checked by the parity tests), so a model exported with a
// shipped template can carry it in tokenizer_config.json.
var JinjaSource = map[string]string{
	"chatml": `{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}{% endfor %}` +
		`{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}`,
	"llama3": `{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] + '<|eot_id|>' }}{% endfor %}` +
		`{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}`,
	"plain": `{{ bos_token }}{% for message in messages %}{% if message['role'] == 'assistant' %}{{ 'Assistant: ' + message['content'] + eos_token }}` +
		`{% else %}{{ (message['role'] | capitalize) + ': ' + message['content'] + '\n\n' }}{% endif %}{% endfor %}` +
		`{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}`,
}
