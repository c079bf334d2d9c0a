import { ApiProperty } from '@nestjs/swagger';

export class PhoneNumberResponse {
  @ApiProperty({ description: 'With the country code for numbers outside mainland China', example: '13800138000' })
  phoneNumber: string;

  @ApiProperty({ description: 'Without the country code', example: '13800138000' })
  purePhoneNumber: string;

  @ApiProperty({ example: '86' })
  countryCode: string;
}

export class SessionStatusResponse {
  @ApiProperty({ description: "Whether WeChat still holds the session_key of this user's last login. False: call wx.login and log in again before sending encrypted data.", example: true })
  valid: boolean;
}
